"""SMS and WhatsApp through Twilio: one account, one REST client, one webhook.

Twilio posts every incoming message of the account, SMS or WhatsApp, to
``POST /webhooks/twilio`` as a form; WhatsApp addresses carry a ``whatsapp:``
prefix, which is how the two channels are told apart (and stripped, so the same
phone number on both is one contact). Delivery reports arrive at
``POST /webhooks/twilio/status``. Both are signed with the account's auth token
(``X-Twilio-Signature`` over the public URL and the form fields), checked with
the SDK's ``RequestValidator``; the webhook is answered at once with empty TwiML
because replies leave through the outbox.

Outbound uses the SDK's REST client with its aiohttp-based async HTTP client,
one per account for the app's life, pointed at ``api_base_url``. Neither
channel shows buttons: choices arrive as a numbered menu (plain Twilio messages
have no buttons; WhatsApp quick replies would need pre-approved Content
templates per menu). SMS text is folded to GSM-7 before sending and its billed
segments are counted. WhatsApp outside the 24-hour customer-service window may
only send an approved Content template (``templates`` in the config).
"""

from __future__ import annotations

import base64
import contextvars
import email.utils
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import ClientSession, web
from multidict import MultiDict, MultiDictProxy
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from hub.channels.base import (
    Capabilities,
    Channel,
    ChannelError,
    OnMessage,
    OnStatus,
    RouteDef,
)
from hub.channels.sms_text import segments, to_gsm7
from hub.config import TwilioConfig
from hub.model import (
    AddressKind,
    Attachment,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    Location,
    OutboundMessage,
    SendResult,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/twilio"
STATUS_PATH = "/webhooks/twilio/status"
WHATSAPP_PREFIX = "whatsapp:"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA = 10
"""Twilio sends at most ten media items per message."""
REQUEST_TIMEOUT_SECONDS = 20.0
SMS_MAX_TEXT = 459
"""Three GSM-7 segments (3 x 153); the renderer splits longer text into several SMS."""
TWILIO_MAX_BODY = 1600
"""Twilio's limit for ``Body``, WhatsApp included."""

# Documented MessageStatus values; "undelivered" is final, like "failed".
_STATUSES = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}

# Short wording for the delivery errors a status callback reports by code only.
_ERROR_CODES = {
    "21610": "recipient has unsubscribed (STOP)",
    "30001": "queue overflow",
    "30002": "account suspended",
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier",
    "30008": "unknown error",
    "63016": "outside the WhatsApp 24-hour window",
}

_MAPPED_FIELDS = frozenset(
    {
        "MessageSid",
        "From",
        "Body",
        "ProfileName",
        "NumMedia",
        "Latitude",
        "Longitude",
        "Address",
        "Label",
        "ButtonPayload",
        "ButtonText",
        "OriginalRepliedMessageSid",
    }
)
_MEDIA_FIELD = re.compile(r"^Media(Url|ContentType)\d+$")

_response_headers: contextvars.ContextVar[list[Mapping[str, str]] | None] = contextvars.ContextVar(
    "twilio_response_headers", default=None
)
"""Headers of the responses one ``send`` got, so a 429's Retry-After can be read."""


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's async client with a default timeout and the response headers kept."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK passes it
        allow_redirects: bool = False,
    ) -> Any:
        if auth is not None:
            # Sent as a header: aiohttp deprecates its ``auth=BasicAuth`` argument.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        response = await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )
        seen = _response_headers.get()
        if seen is not None:
            seen.append(response.headers or {})
        return response


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _api_error(
    exc: TwilioRestException | TwilioServiceException, headers: Mapping[str, str]
) -> ChannelError:
    status = int(getattr(exc, "status", 0) or 0)
    code = getattr(exc, "code", None)
    if isinstance(exc, TwilioServiceException):
        detail = exc.detail or exc.title
    else:
        detail = str(exc.msg or "")
    reason = f"twilio error {code} (HTTP {status}): {detail}".strip()
    if status == 429 or status >= 500:
        return ChannelError(reason, retry_after=_retry_after(headers))
    return ChannelError(reason, permanent=True)


def _address(raw: str) -> str:
    """The phone number behind ``whatsapp:+62...`` or ``+62...``."""
    raw = raw.strip()
    return raw[len(WHATSAPP_PREFIX) :] if raw.lower().startswith(WHATSAPP_PREFIX) else raw


def _is_whatsapp(params: Mapping[str, str]) -> bool:
    return any(
        params.get(field, "").strip().lower().startswith(WHATSAPP_PREFIX)
        for field in ("From", "To")
    )


def _float(params: Mapping[str, str], name: str) -> float:
    try:
        return float(params[name])
    except ValueError:
        raise ValueError(f"{name} must be a number") from None


def parse_inbound(params: Mapping[str, str], channel: str) -> InboundMessage:
    """One webhook form as a canonical message; ValueError when a field is malformed."""
    sid = params.get("MessageSid", "").strip()
    sender = _address(params.get("From", ""))
    if not sid or not sender:
        raise ValueError("MessageSid and From are required")
    try:
        num_media = int(params.get("NumMedia") or 0)
    except ValueError:
        raise ValueError("NumMedia must be a whole number") from None
    attachments = tuple(
        Attachment(
            content_type=params.get(f"MediaContentType{i}") or "application/octet-stream",
            url=params[f"MediaUrl{i}"],
        )
        for i in range(min(max(num_media, 0), MAX_MEDIA))
        if params.get(f"MediaUrl{i}")
    )
    location = None
    if params.get("Latitude") and params.get("Longitude"):
        label, address = params.get("Label", "").strip(), params.get("Address", "").strip()
        location = Location(
            latitude=_float(params, "Latitude"),
            longitude=_float(params, "Longitude"),
            name=", ".join(part for part in (label, address) if part),
        )
    payload = params.get("ButtonPayload") or None
    text = params.get("Body", "")
    if payload:
        text = params.get("ButtonText") or text
    raw = {
        key: value
        for key, value in params.items()
        if key not in _MAPPED_FIELDS and not _MEDIA_FIELD.match(key)
    }
    return InboundMessage(
        channel=channel,
        sender=sender,
        provider_message_id=sid,
        text=text,
        attachments=attachments,
        location=location,
        choice_payload=payload,
        reply_to=params.get("OriginalRepliedMessageSid") or None,
        sender_name=params.get("ProfileName", "").strip(),
        raw=raw,
    )


def parse_status(params: Mapping[str, str]) -> DeliveryUpdate | None:
    """A status callback as a delivery update; None for a status the hub does not track."""
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise ValueError("MessageSid and MessageStatus are required")
    mapped = _STATUSES.get(status)
    if mapped is None:
        return None
    whatsapp = _is_whatsapp(params) or params.get("ChannelPrefix", "").lower() == "whatsapp"
    code = params.get("ErrorCode", "").strip()
    if code == "0":
        code = ""
    message = (params.get("ErrorMessage") or params.get("ChannelStatusMessage") or "").strip()
    return DeliveryUpdate(
        channel="whatsapp" if whatsapp else "sms",
        provider_message_id=sid,
        status=mapped,
        error_code=code,
        error_message=message or _ERROR_CODES.get(code, ""),
    )


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def _twiml() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


class TwilioAccount:
    """What the SMS and WhatsApp channels share: credentials, the REST client, the webhook."""

    def __init__(self, config: TwilioConfig, public_url: str) -> None:
        self.config = config
        self.public_url = public_url.rstrip("/")
        self.validator = RequestValidator(config.auth_token)
        self.channels: dict[str, TwilioChannel] = {}
        self.client: Any = None
        self._http: _HttpClient | None = None
        self._users = 0

    @property
    def status_callback(self) -> str:
        return self.public_url + STATUS_PATH

    async def open(self) -> None:
        """Create the REST client on first use; it needs a running loop for its session."""
        self._users += 1
        if self.client is not None:
            return
        api_log = logging.getLogger(__name__ + ".api")
        api_log.setLevel(logging.WARNING)  # the SDK logs every request at INFO
        self._http = _HttpClient(timeout=REQUEST_TIMEOUT_SECONDS, logger=api_log)
        client = Client(self.config.account_sid, self.config.auth_token, http_client=self._http)
        # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host.
        client.edge = None
        client.region = None
        client.api.base_url = self.config.api_base_url
        self.client = client

    async def close(self) -> None:
        """Release the client once the last channel using it stops."""
        self._users = max(0, self._users - 1)
        if self._users or self._http is None:
            return
        http, self._http, self.client = self._http, None, None
        await http.close()

    async def create_message(self, params: dict[str, Any]) -> Any:
        if self.client is None:
            raise ChannelError("twilio client not started")
        seen: list[Mapping[str, str]] = []
        token = _response_headers.set(seen)
        try:
            return await self.client.messages.create_async(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _api_error(exc, seen[-1] if seen else {}) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ChannelError(f"twilio unreachable: {type(exc).__name__}: {exc}") from None
        finally:
            _response_headers.reset(token)

    async def _verified_form(self, request: web.Request) -> MultiDict[str]:
        """The posted form, if Twilio signed it for our public URL; else 403."""
        try:
            form: MultiDictProxy[Any] = await request.post()
        except ValueError:
            raise web.HTTPBadRequest(
                text=json.dumps({"error": "body is not a form"}), content_type="application/json"
            ) from None
        params: MultiDict[str] = MultiDict(
            (key, value) for key, value in form.items() if isinstance(value, str)
        )
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = self.public_url + request.path_qs
        if not signature or not self.validator.validate(url, params, signature):
            log.warning(
                "twilio webhook refused: bad or missing signature", extra={"path": request.path}
            )
            raise web.HTTPForbidden(
                text=json.dumps({"error": "invalid signature"}), content_type="application/json"
            )
        return params

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        async def incoming(request: web.Request) -> web.StreamResponse:
            params = await self._verified_form(request)
            channel = "whatsapp" if _is_whatsapp(params) else "sms"
            if channel not in self.channels:
                log.warning(
                    "twilio message for a channel that is not enabled", extra={"channel": channel}
                )
                return _twiml()
            try:
                message = parse_inbound(params, channel)
            except ValueError as exc:
                log.warning("malformed twilio webhook: %s", exc)
                return _bad_request(str(exc))
            try:
                await on_message(message)
            except ValueError:
                log.warning("twilio message refused: sender is not a phone number")
                return _bad_request("From is not a valid phone number")
            return _twiml()

        async def status(request: web.Request) -> web.StreamResponse:
            params = await self._verified_form(request)
            try:
                update = parse_status(params)
            except ValueError as exc:
                log.warning("malformed twilio status callback: %s", exc)
                return _bad_request(str(exc))
            if update is None:
                log.info("twilio status ignored", extra={"status": params.get("MessageStatus")})
            elif not await on_status(update):
                log.info("twilio status for an unknown message", extra={"channel": update.channel})
            return web.Response(status=204)

        return [RouteDef("POST", WEBHOOK_PATH, incoming), RouteDef("POST", STATUS_PATH, status)]


class TwilioChannel(Channel):
    """One Twilio sender; the account's first channel mounts the shared webhook."""

    def __init__(self, name: str, account: TwilioAccount, capabilities: Capabilities) -> None:
        self.name = name
        self.capabilities = capabilities
        self.account = account
        account.channels[name] = self

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        if next(iter(self.account.channels.values())) is not self:
            return []
        return self.account.routes(on_message, on_status)

    def _params(self, message: OutboundMessage) -> tuple[dict[str, Any], int | None]:
        raise NotImplementedError

    async def send(self, message: OutboundMessage) -> SendResult:
        params, billed = self._params(message)
        params["status_callback"] = self.account.status_callback
        created = await self.account.create_message(params)
        status = DeliveryStatus.SENT if created.status == "sent" else DeliveryStatus.QUEUED
        return SendResult(
            provider_message_id=str(created.sid or ""), status=status, segments=billed
        )

    async def start(self, http: ClientSession) -> None:
        await self.account.open()

    async def stop(self) -> None:
        await self.account.close()


class TwilioSmsChannel(TwilioChannel):
    def __init__(self, account: TwilioAccount) -> None:
        super().__init__(
            "sms",
            account,
            Capabilities(
                max_text_length=SMS_MAX_TEXT,
                buttons=False,
                attachments=False,
                address_kind=AddressKind.PHONE,
            ),
        )

    def _params(self, message: OutboundMessage) -> tuple[dict[str, Any], int | None]:
        text = message.text
        # Feature phones cannot show MMS (and Indonesian carriers do not take it): links instead.
        links = [a.url for a in message.attachments if a.url]
        if links:
            text = "\n".join([text, *links]) if text else "\n".join(links)
        body = to_gsm7(text)
        params: dict[str, Any] = {"to": _address(message.recipient), "body": body}
        sender = self.account.config.sms_from
        if sender.startswith("MG"):
            params["messaging_service_sid"] = sender
        else:
            params["from_"] = sender
        return params, segments(body)


class TwilioWhatsAppChannel(TwilioChannel):
    def __init__(self, account: TwilioAccount) -> None:
        super().__init__(
            "whatsapp",
            account,
            Capabilities(
                max_text_length=TWILIO_MAX_BODY,
                buttons=False,
                attachments=True,
                address_kind=AddressKind.PHONE,
                session_window_hours=24,
            ),
        )

    def _params(self, message: OutboundMessage) -> tuple[dict[str, Any], int | None]:
        params: dict[str, Any] = {
            "from_": WHATSAPP_PREFIX + _address(self.account.config.whatsapp_from),
            "to": WHATSAPP_PREFIX + _address(message.recipient),
        }
        if not message.window_open:
            content_sid = self.account.config.templates.get(message.template_key)
            if not content_sid:
                raise ChannelError(
                    "outside the 24-hour window and no template configured for "
                    f"'{message.template_key}'",
                    permanent=True,
                )
            values = message.template_variables or (" ".join(message.text.split()),)
            params["content_sid"] = content_sid
            params["content_variables"] = json.dumps(
                {str(n): value for n, value in enumerate(values, start=1)}, ensure_ascii=False
            )
            return params, None
        params["body"] = message.text
        media = [a.url for a in message.attachments if a.url]
        if media:
            params["media_url"] = media[:MAX_MEDIA]
        return params, None


def twilio_channels(config: TwilioConfig, public_url: str) -> list[Channel]:
    """The enabled Twilio senders: "sms" for ``sms_from``, "whatsapp" for ``whatsapp_from``."""
    account = TwilioAccount(config, public_url)
    channels: list[Channel] = []
    if config.sms_from:
        channels.append(TwilioSmsChannel(account))
    if config.whatsapp_from:
        channels.append(TwilioWhatsAppChannel(account))
    return channels

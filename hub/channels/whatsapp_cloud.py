"""WhatsApp through Meta's Cloud API, spoken directly over aiohttp (no SDK).

Meta calls ``/webhooks/whatsapp``: a GET once to verify the callback URL, then a
POST per batch of events, signed with the app secret (``X-Hub-Signature-256``).
One POST may carry several messages and statuses; each message becomes its own
``InboundMessage`` (keyed by its ``wamid``), accepted in order, and Meta gets its
200 only once all of them are stored, so a failure makes Meta resend the batch
and the inbound pipeline's dedupe drops what was already kept.

Outbound goes to ``POST {api_base_url}/{phone_number_id}/messages`` on the hub's
shared client session. Choices become reply buttons (1-3) or a list (4-10); when
the citizen has not written for 24 hours Meta accepts only approved templates,
so the dispatcher marks the message ``window_open=False`` and we send the template
configured for its reply key instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import ClientSession, web

from hub.channels.base import (
    Capabilities,
    Channel,
    ChannelError,
    OnMessage,
    OnStatus,
    RouteDef,
)
from hub.config import WhatsAppCloudConfig
from hub.model import (
    AddressKind,
    Attachment,
    Choice,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    Location,
    OutboundMessage,
    SendResult,
    utcnow,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/whatsapp"
MEDIA_URL_PREFIX = "whatsapp-media:"
"""Inbound media is kept as ``whatsapp-media:<media id>`` and fetched only when needed."""

# Meta's documented limits for interactive messages.
INTERACTIVE_BODY_MAX = 1024
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72
CAPTION_MAX = 1024
CHOICE_PAYLOAD_MAX = 255  # the store's column

# Graph error codes that mean "slow down / try later" rather than "this will never work".
TRANSIENT_ERROR_CODES = frozenset(
    {1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 133004, 133016}
)

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
IMAGE_MIME_TYPES = ("image/jpeg", "image/png")
MEDIA_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
MAX_MEDIA_BYTES = 100 * 1024 * 1024
REMEMBERED_SENDS = 1024

_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}

_LABELS = {
    "id": {"button": "Pilih", "section": "Pilihan", "prompt": "Silakan pilih:"},
    "en": {"button": "Choose", "section": "Options", "prompt": "Please choose:"},
}


class PayloadError(ValueError):
    """A webhook body that is not what Meta documents; the reason names no content."""


@dataclass(slots=True)
class WebhookEvents:
    """What one signed POST carried, in the order Meta listed it."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[DeliveryUpdate] = field(default_factory=list)
    ignored: int = 0


class WhatsAppCloudChannel(Channel):
    name = "whatsapp_cloud"
    capabilities = Capabilities(
        max_text_length=4096,
        buttons=True,
        max_buttons=MAX_LIST_ROWS,
        attachments=True,
        address_kind=AddressKind.PHONE,
        session_window_hours=24,
    )

    def __init__(self, config: WhatsAppCloudConfig) -> None:
        self.config = config
        self._http: ClientSession | None = None
        # Parts of a multi-request send already accepted by Meta, per idempotency key,
        # so a retry after a transient failure does not repeat them (this process only).
        self._delivered_parts: OrderedDict[str, dict[int, str]] = OrderedDict()

    async def start(self, http: ClientSession) -> None:
        self._http = http

    async def stop(self) -> None:
        # The session belongs to the hub, which closes it.
        self._http = None

    # ---------------------------------------------------------------- inbound

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        async def verify(request: web.Request) -> web.StreamResponse:
            return self._verify(request)

        async def receive(request: web.Request) -> web.StreamResponse:
            return await self._receive(request, on_message, on_status)

        return [RouteDef("GET", WEBHOOK_PATH, verify), RouteDef("POST", WEBHOOK_PATH, receive)]

    def _verify(self, request: web.Request) -> web.StreamResponse:
        """Meta's subscription handshake: echo the challenge if the token matches."""
        query = request.query
        token = query.get("hub.verify_token", "")
        token_ok = hmac.compare_digest(
            token.encode("utf-8", "replace"), self.config.verify_token.encode("utf-8")
        )
        if query.get("hub.mode") != "subscribe" or not token_ok:
            log.warning("whatsapp webhook verification refused")
            raise web.HTTPForbidden(text="verification refused")
        challenge = query.get("hub.challenge", "")
        if not challenge:
            return web.json_response({"error": "hub.challenge missing"}, status=400)
        return web.Response(text=challenge, content_type="text/plain")

    def signature_valid(self, body: bytes, header: str | None) -> bool:
        """``sha256=<hex>`` of the raw body with the app secret, compared in constant time."""
        if not header or not header.startswith("sha256="):
            return False
        expected = hmac.new(self.config.app_secret.encode(), body, hashlib.sha256).hexdigest()
        given = header[len("sha256=") :].strip().lower()
        return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))

    async def _receive(
        self, request: web.Request, on_message: OnMessage, on_status: OnStatus
    ) -> web.StreamResponse:
        body = await request.read()  # over client_max_size: 413 from aiohttp
        if not self.signature_valid(body, request.headers.get("X-Hub-Signature-256")):
            log.warning("whatsapp webhook with a missing or wrong signature refused")
            raise web.HTTPForbidden(text="bad signature")
        try:
            events = parse_webhook(body, self.name, self.config.phone_number_id)
        except PayloadError as exc:
            log.warning("malformed whatsapp webhook refused", extra={"reason": str(exc)})
            return web.json_response({"error": f"malformed event: {exc}"}, status=400)
        for message in events.messages:
            try:
                await on_message(message)
            except ValueError:
                log.warning("whatsapp sender address not accepted")
                return web.json_response({"error": "sender is not a phone number"}, status=400)
        for update in events.statuses:
            await on_status(update)
        return web.json_response(
            {
                "messages": len(events.messages),
                "statuses": len(events.statuses),
                "ignored": events.ignored,
            }
        )

    # --------------------------------------------------------------- outbound

    async def send(self, message: OutboundMessage) -> SendResult:
        http = self._http
        if http is None:
            raise ChannelError("whatsapp channel not started")
        to = "".join(ch for ch in message.recipient if ch.isdigit())
        if not to:
            raise ChannelError("recipient is not a phone number", permanent=True)
        if message.window_open:
            parts = self._session_parts(message)
        else:
            parts = [self._template_part(message)]
        key = message.idempotency_key
        done = self._delivered_parts.get(key, {}) if key else {}
        provider_id = ""
        try:
            for index, part in enumerate(parts):
                if index in done:
                    provider_id = done[index]
                    continue
                body = {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    **part,
                }
                provider_id = await self._post(http, body)
                if key and len(parts) > 1:
                    self._remember(key, index, provider_id)
        except ChannelError as exc:
            if exc.permanent and key:
                self._delivered_parts.pop(key, None)
            raise
        if key:
            self._delivered_parts.pop(key, None)
        return SendResult(provider_message_id=provider_id, status=DeliveryStatus.SENT)

    def _remember(self, key: str, index: int, provider_id: str) -> None:
        self._delivered_parts.setdefault(key, {})[index] = provider_id
        self._delivered_parts.move_to_end(key)
        while len(self._delivered_parts) > REMEMBERED_SENDS:
            self._delivered_parts.popitem(last=False)

    def _session_parts(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """Inside the 24-hour window: attachments first, then the text or the choices.

        An interactive body holds at most 1024 characters; a longer text goes out as
        a plain message first and the buttons follow under a short prompt.
        """
        labels = _labels(message.locale)
        parts = [_media_part(attachment) for attachment in message.attachments]
        text = message.text
        choices = message.choices
        if choices and len(choices) <= MAX_LIST_ROWS:
            body = text
            if len(text) > INTERACTIVE_BODY_MAX or not text.strip():
                if text.strip():
                    parts.append(_text_part(text))
                body = labels["prompt"]
            parts.append(_interactive_part(body, choices, labels))
        else:
            if choices:
                # More choices than a list holds (the renderer should have made a menu).
                menu = "\n".join(f"{n}. {c.title}" for n, c in enumerate(choices, start=1))
                text = f"{text}\n\n{menu}" if text.strip() else menu
            if text.strip():
                parts.append(_text_part(text))
        if not parts:
            raise ChannelError("nothing to send: empty message", permanent=True)
        return parts

    def _template_part(self, message: OutboundMessage) -> dict[str, Any]:
        """Outside the window: the approved template configured for this reply key."""
        template = self.config.templates.get(message.template_key)
        if template is None:
            raise ChannelError(
                "outside the 24-hour window and no template configured for "
                f"'{message.template_key}'",
                permanent=True,
            )
        values = message.template_variables or ((message.text,) if message.text.strip() else ())
        content: dict[str, Any] = {
            "name": template.name,
            "language": {"code": template.language},
        }
        if values:
            content["components"] = [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": _one_line(v)} for v in values],
                }
            ]
        return {"type": "template", "template": content}

    async def _post(self, http: ClientSession, body: Mapping[str, Any]) -> str:
        url = f"{self.config.api_base_url}/{self.config.phone_number_id}/messages"
        status, data, retry_after = await self._request(http, "POST", url, json_body=body)
        if 200 <= status < 300:
            try:
                return str(data["messages"][0]["id"])
            except (TypeError, KeyError, IndexError) as exc:
                raise ChannelError("unexpected Graph API response: no message id") from exc
        raise _graph_error(status, data, retry_after)

    async def _request(
        self,
        http: ClientSession,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
    ) -> tuple[int, Any, float | None]:
        headers = {"Authorization": f"Bearer {self.config.access_token}"}
        try:
            async with http.request(method, url, json=json_body, headers=headers) as response:
                try:
                    data = await response.json(content_type=None)
                except ValueError:
                    data = None
                return response.status, data, _retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(
                f"network error talking to the Graph API: {type(exc).__name__}"
            ) from exc

    # ------------------------------------------------------------------ media

    async def fetch_media(self, url: str, *, max_bytes: int = MAX_MEDIA_BYTES) -> tuple[bytes, str]:
        """Download an inbound ``whatsapp-media:<id>`` attachment: (content, mime type).

        Meta's media URLs expire after a few minutes, so they are resolved only here.
        """
        http = self._http
        if http is None:
            raise ChannelError("whatsapp channel not started")
        media_id = url.removeprefix(MEDIA_URL_PREFIX)
        if not url.startswith(MEDIA_URL_PREFIX) or not MEDIA_ID_RE.match(media_id):
            raise ChannelError("not a WhatsApp media reference", permanent=True)
        status, data, retry_after = await self._request(
            http, "GET", f"{self.config.api_base_url}/{media_id}"
        )
        if not 200 <= status < 300:
            raise _graph_error(status, data, retry_after)
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise ChannelError("unexpected Graph API response: no media url")
        headers = {"Authorization": f"Bearer {self.config.access_token}"}
        try:
            async with http.get(data["url"], headers=headers) as response:
                if response.status != 200:
                    raise ChannelError(
                        f"media download failed: HTTP {response.status}",
                        permanent=400 <= response.status < 500 and response.status != 429,
                    )
                content = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    content.extend(chunk)
                    if len(content) > max_bytes:
                        raise ChannelError("media larger than allowed", permanent=True)
                mime = str(data.get("mime_type") or response.content_type)
                return bytes(content), mime
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"network error downloading media: {type(exc).__name__}") from exc


# --------------------------------------------------------------------- parsing


def parse_webhook(body: bytes, channel: str, phone_number_id: str = "") -> WebhookEvents:
    """A signed webhook body as canonical messages and delivery updates.

    Raises :class:`PayloadError` for anything that is not Meta's documented shape.
    Changes for other fields or for another phone number of the same app are
    skipped; unknown message types are counted as ignored.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body is not JSON") from exc
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise PayloadError("not a whatsapp_business_account event")
    events = WebhookEvents()
    for e, entry in enumerate(_list(data, "entry", "event")):
        where_entry = f"entry[{e}]"
        for c, change in enumerate(_list(_object(entry, where_entry), "changes", where_entry)):
            where = f"{where_entry}.changes[{c}]"
            change = _object(change, where)
            if change.get("field", "messages") != "messages":
                events.ignored += 1
                continue
            value = _object(change.get("value"), f"{where}.value")
            metadata = value.get("metadata")
            to_number = (
                str(metadata.get("phone_number_id", "")) if isinstance(metadata, dict) else ""
            )
            if phone_number_id and to_number and to_number != phone_number_id:
                log.info("whatsapp event for another phone number of the app ignored")
                events.ignored += 1
                continue
            names = _contact_names(value.get("contacts"))
            for m, raw in enumerate(_list(value, "messages", f"{where}.value", optional=True)):
                message = _message(channel, raw, names, f"{where}.value.messages[{m}]")
                if message is None:
                    events.ignored += 1
                else:
                    events.messages.append(message)
            for s, raw in enumerate(_list(value, "statuses", f"{where}.value", optional=True)):
                update = _status(channel, raw, f"{where}.value.statuses[{s}]")
                if update is None:
                    events.ignored += 1
                else:
                    events.statuses.append(update)
    return events


def _message(channel: str, raw: Any, names: Mapping[str, str], where: str) -> InboundMessage | None:
    data = _object(raw, where)
    sender = _text(data, "from", where)
    message_id = _text(data, "id", where)
    kind = _text(data, "type", where)
    text = ""
    choice: str | None = None
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    if kind == "text":
        text = str(_object(data.get("text"), f"{where}.text").get("body", ""))
    elif kind == "interactive":
        interactive = _object(data.get("interactive"), f"{where}.interactive")
        reply_kind = interactive.get("type")
        if reply_kind not in ("button_reply", "list_reply"):
            log.info("whatsapp interactive reply ignored", extra={"kind": str(reply_kind)})
            return None
        reply = _object(interactive.get(reply_kind), f"{where}.interactive.{reply_kind}")
        choice = _text(reply, "id", f"{where}.interactive.{reply_kind}")
        text = str(reply.get("title", ""))
    elif kind == "button":
        # A quick-reply button of a template message.
        button = _object(data.get("button"), f"{where}.button")
        choice = str(button.get("payload") or "") or None
        text = str(button.get("text", ""))
    elif kind in MEDIA_TYPES:
        media = _object(data.get(kind), f"{where}.{kind}")
        media_id = _text(media, "id", f"{where}.{kind}")
        caption = str(media.get("caption", ""))
        attachments = (
            Attachment(
                content_type=str(media.get("mime_type") or "application/octet-stream"),
                url=f"{MEDIA_URL_PREFIX}{media_id}",
                filename=str(media.get("filename", "")),
                caption=caption,
            ),
        )
        text = caption
    elif kind == "location":
        place = _object(data.get("location"), f"{where}.location")
        try:
            latitude = float(place["latitude"])
            longitude = float(place["longitude"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"{where}.location: latitude and longitude required") from exc
        label = ", ".join(
            str(place[key]) for key in ("name", "address") if isinstance(place.get(key), str)
        )
        location = Location(latitude=latitude, longitude=longitude, name=label)
    else:
        # reaction, system, unsupported, contacts, order, ...: acknowledged, not stored.
        log.info("whatsapp message type ignored", extra={"kind": kind})
        return None
    context = data.get("context")
    reply_to = context.get("id") if isinstance(context, dict) else None
    return InboundMessage(
        channel=channel,
        # wa_id is the full international number without "+"; say so, or a foreign
        # number would be read as an Indonesian national one.
        sender=f"+{sender}" if sender.isdigit() else sender,
        provider_message_id=message_id,
        text=text,
        attachments=attachments,
        location=location,
        choice_payload=choice[:CHOICE_PAYLOAD_MAX] if choice else None,
        reply_to=str(reply_to) if reply_to else None,
        sender_name=names.get(sender, ""),
        received_at=_timestamp(data.get("timestamp")),
        raw=data,
    )


def _status(channel: str, raw: Any, where: str) -> DeliveryUpdate | None:
    data = _object(raw, where)
    provider_id = _text(data, "id", where)
    status = _STATUSES.get(str(data.get("status", "")))
    if status is None:
        log.info("whatsapp status ignored", extra={"status": str(data.get("status", ""))})
        return None
    code = ""
    reason = ""
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        error = errors[0]
        code = str(error.get("code", ""))
        details = error.get("error_data")
        pieces = [
            str(error.get("title") or ""),
            str(error.get("message") or ""),
            str(details.get("details") or "") if isinstance(details, dict) else "",
        ]
        reason = " - ".join(dict.fromkeys(p for p in pieces if p))
    return DeliveryUpdate(
        channel=channel,
        provider_message_id=provider_id,
        status=status,
        error_code=code,
        error_message=reason,
        at=_timestamp(data.get("timestamp")),
    )


def _contact_names(raw: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    if isinstance(raw, list):
        for contact in raw:
            if not isinstance(contact, dict):
                continue
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(contact.get("wa_id"), str) and isinstance(name, str):
                names[contact["wa_id"]] = name
    return names


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


def _list(data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> list[Any]:
    value = data.get(key)
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}.{key} must be a list")
    return value


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where}.{key} missing")
    return value


def _timestamp(value: Any) -> datetime:
    """Meta's unix-seconds string; the 24-hour window counts from the citizen's message."""
    now = utcnow()
    try:
        at = datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return min(at, now)


# -------------------------------------------------------------------- payloads


def _labels(locale: str) -> dict[str, str]:
    return _LABELS.get(locale, _LABELS["id"])


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": text, "preview_url": False}}


def _interactive_part(
    body: str, choices: Sequence[Choice], labels: Mapping[str, str]
) -> dict[str, Any]:
    if len(choices) <= MAX_REPLY_BUTTONS:
        buttons = [
            {
                "type": "reply",
                "reply": {"id": c.payload[:BUTTON_ID_MAX], "title": c.title[:BUTTON_TITLE_MAX]},
            }
            for c in choices
        ]
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": body},
            "action": {"buttons": buttons},
        }
    else:
        rows = []
        for c in choices:
            row = {"id": c.payload[:ROW_ID_MAX], "title": c.title[:ROW_TITLE_MAX]}
            if len(c.title) > ROW_TITLE_MAX:
                # The full wording still reaches the citizen, under the clipped title.
                row["description"] = c.title[:ROW_DESCRIPTION_MAX]
            rows.append(row)
        interactive = {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": labels["button"],
                "sections": [{"title": labels["section"], "rows": rows}],
            },
        }
    return {"type": "interactive", "interactive": interactive}


def _media_part(attachment: Attachment) -> dict[str, Any]:
    kind = "image" if attachment.content_type in IMAGE_MIME_TYPES else "document"
    url = attachment.url
    media: dict[str, Any]
    if url.startswith(MEDIA_URL_PREFIX):
        media = {"id": url.removeprefix(MEDIA_URL_PREFIX)}
    elif url.startswith(("https://", "http://")):
        media = {"link": url}
    else:
        raise ChannelError("attachment has no public URL to send by link", permanent=True)
    if attachment.caption:
        media["caption"] = attachment.caption[:CAPTION_MAX]
    if kind == "document" and attachment.filename:
        media["filename"] = attachment.filename
    return {"type": kind, kind: media}


def _one_line(value: str) -> str:
    """Meta refuses template parameters with newlines, tabs or 4+ spaces in a row."""
    return " ".join(value.split()) or "-"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _graph_error(status: int, data: Any, retry_after: float | None) -> ChannelError:
    """A Graph API refusal: rate limits and server trouble are retried, the rest is not."""
    error = data.get("error") if isinstance(data, dict) else None
    code: int | None = None
    message = ""
    if isinstance(error, dict):
        raw_code = error.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(error.get("message") or "")
    reason = f"{code}: {message}" if code is not None else f"HTTP {status}"
    if message and code is None:
        reason = f"{reason}: {message}"
    transient = status in (408, 429) or status >= 500 or code in TRANSIENT_ERROR_CODES
    return ChannelError(
        reason, permanent=not transient, retry_after=retry_after if transient else None
    )

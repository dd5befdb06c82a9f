"""Email: mail in by IMAP polling or an SMTP listener, answers out through a relay.

Each mail becomes one ``InboundMessage`` keyed by its Message-ID (the dedupe key,
so a mail offered twice is answered once) with its subject and the ids it answers,
by which the inbound pipeline keeps a thread in one conversation. Mail no person wrote (an
out-of-office, a list, a mailer daemon, our own) gets no answer, so two robots
never talk forever; a bounce marks the message it returns ``failed``.

A ``From`` is believed only as far as the receiving server vouches for it
(``auth``): unverified mail is kept for officers, answered to nobody, and never
joins the history of the address it names; a ``Reply-To`` is followed only for the
operator's own web forms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosmtplib
from aiohttp import ClientError, ClientSession, ClientTimeout

from hub.channels.base import (
    Capabilities,
    Channel,
    ChannelError,
    NotAnswered,
    OnMessage,
    OnStatus,
    RouteDef,
)
from hub.channels.email.compose import FilePart, MailComposer, base_subject
from hub.channels.email.files import ROUTE, MailFiles
from hub.channels.email.listen import MailDeferred, MailListener
from hub.channels.email.parse import ParsedMail, parse_mail
from hub.channels.email.sender_auth import trusted_results, verified_sender
from hub.config import EmailConfig
from hub.model import (
    AddressKind,
    Attachment,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    Locks,
    OutboundMessage,
    SendResult,
    utcnow,
)

if TYPE_CHECKING:
    from hub.channels.email.imap import ImapPoller

log = logging.getLogger(__name__)

NAME = "email"
MAX_TEXT = 20_000
"""What the bot reads of one mail; a pasted document beyond it adds nothing to answer."""
MAX_OUTBOUND_FILE = 5 * 1024 * 1024


class SenderRate:
    """Mail taken per sender in the last hour, in this process: a safety net against a
    robot answering our robot, not an exact count across processes."""

    WINDOW_SECONDS = 3600.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def count(self, sender: str) -> int:
        """Record one mail from ``sender``; how many it sent within the window, this one too."""
        now = self.clock()
        times = self._seen.setdefault(sender, deque())
        while times and now - times[0] > self.WINDOW_SECONDS:
            times.popleft()
        times.append(now)
        for other in [k for k, v in self._seen.items() if now - v[-1] > self.WINDOW_SECONDS]:
            del self._seen[other]
        return len(times)


def _ssl_context(ca_file: str) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


class EmailChannel(Channel):
    name = NAME

    def __init__(
        self,
        config: EmailConfig,
        templates: Path,
        public_url: str,
        locks: Locks | None = None,
        not_answered: NotAnswered = lambda channel, reason: None,
    ) -> None:
        """``locks``: shared by the hub's processes (Redis), so one polls the mailbox at
        a time; without it every process polls."""
        self.config = config
        self.locks = locks
        self._not_answered = not_answered
        self.capabilities = Capabilities(
            max_text_length=MAX_TEXT,
            buttons=False,
            attachments=True,
            address_kind=AddressKind.EMAIL,
            threaded=True,
            thread_idle_hours=config.thread_idle_hours,
        )
        smtp = config.smtp
        # Built once: a CA file is read here, not on every send.
        self._relay: dict[str, Any] = {
            "hostname": smtp.host,
            "port": smtp.port,
            "use_tls": smtp.ssl,
            "start_tls": smtp.starttls and not smtp.ssl,
            "tls_context": _ssl_context(smtp.ca_file),
            "timeout": smtp.timeout_seconds,
        }
        self._imap_tls = _ssl_context(config.imap.ca_file)
        self.composer = MailComposer(templates, config.address, config.display_name)
        self.files = MailFiles(Path(config.attachments_dir), public_url)
        self._on_message: OnMessage | None = None
        self._on_status: OnStatus | None = None
        self._http: ClientSession | None = None
        self._listener: MailListener | None = None
        self._poller: ImapPoller | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self.rate = SenderRate()

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        self._on_message = on_message
        self._on_status = on_status
        return [RouteDef("GET", ROUTE, self.files.serve)]

    @property
    def listen_port(self) -> int | None:
        """The SMTP listener's bound port (tests listen on port 0)."""
        return self._listener.port if self._listener is not None else None

    async def start_sending(self, http: ClientSession) -> None:
        """Only what ``send`` needs, without receiving (``omnihub email check``)."""
        self._http = http

    async def start(self, http: ClientSession) -> None:
        self._http = http
        if not self.config.authserv_ids:
            log.warning(
                "email: channels.email.authserv_ids is empty, so no sender can be verified:"
                " every mail waits for officers and the bot answers none"
            )
        if self.config.listen.enabled:
            self._listener = MailListener(self.config.listen, self.config.address, self.take)
            await self._listener.start()
        if self.config.imap.enabled:
            from hub.channels.email.imap import ImapPoller

            self._poller = ImapPoller(
                self.config.imap,
                self.take,
                ssl_context=self._imap_tls,
                round_lock=self._mailbox_lock if self.locks is not None else None,
            )
            self._poll_task = asyncio.create_task(self._poller.run())

    def _mailbox_lock(self) -> AbstractAsyncContextManager[None]:
        assert self.locks is not None
        # Longer than a slow round; if a round outlives it, a second poller may join in,
        # which costs at worst a second copy of a mail in move_to.
        lease = max(120.0, self.config.imap.timeout_seconds * 4)
        return self.locks.lock("email-imap", lease_seconds=lease, wait_seconds=0)

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
            self._poll_task = None

    async def poll_once(self) -> int:
        """One IMAP round now (the CLI and tests; the running hub polls by itself)."""
        if self._poller is None:
            return 0
        return await self._poller.poll_once()

    # -- inbound ---------------------------------------------------------------

    async def take(self, raw: bytes, envelope_sender: str | None) -> None:
        """Store one mail (or deliberately ignore it); MailDeferred when the hub cannot
        take it now, so the relay or the poller offers it again."""
        if self._on_message is None or self._on_status is None:
            raise MailDeferred("channel not mounted")
        mail = parse_mail(
            raw,
            own_address=self.config.address,
            envelope_sender=envelope_sender,
            max_attachment_bytes=self.config.max_attachment_bytes,
        )
        if mail.bounce is not None:
            await self._bounced(mail)
            return
        if mail.auto_reason:
            self._unanswered(mail.auto_reason)
            return
        verified = verified_sender(
            trusted_results(mail.auth_results, self.config.authserv_ids), mail.sender
        )
        citizen = mail.sender
        if mail.reply_to and verified and self._is_form(mail.sender):
            # Our own web form, vouched for by its domain: the citizen is in Reply-To.
            citizen = mail.reply_to
        if not citizen:
            self._unanswered("no-sender")
            return
        hold = ""
        if not verified:
            # Anyone may write this From: kept for officers, answered to nobody.
            hold = "unverified"
            self._unanswered("unverified", held=True)
        elif self.rate.count(citizen) > self.config.max_answered_per_hour:
            hold = "flood"
            self._unanswered("flood", held=True)
        message = InboundMessage(
            channel=NAME,
            hold=hold,
            verified=verified,
            sender=citizen,
            provider_message_id=mail.message_id,
            text=mail.text[:MAX_TEXT],
            attachments=self._attachments(mail),
            sender_name=mail.sender_name,
            subject=base_subject(mail.subject),
            thread=mail.references,
            received_at=utcnow(),
            raw={
                "subject": mail.subject,
                "skipped_attachments": list(mail.skipped_attachments),
                "verified": verified,
            },
        )
        try:
            await self._on_message(message)
        except ValueError:
            self._unanswered("bad-sender")
        except Exception as exc:
            raise MailDeferred(type(exc).__name__) from exc

    def _is_form(self, sender: str) -> bool:
        """A web form of the operator's (``form_senders``: an address or its domain)."""
        domain = sender.rpartition("@")[2]
        return any(item.strip().lower() in (sender, domain) for item in self.config.form_senders)

    def _unanswered(self, reason: str, *, held: bool = False) -> None:
        """Log (the reason only, never an address) and count a mail the bot won't answer."""
        if held:
            log.warning("mail held for officers", extra={"channel": NAME, "reason": reason})
        else:
            log.info("mail not answered", extra={"channel": NAME, "reason": reason})
        self._not_answered(NAME, reason)

    def _attachments(self, mail: ParsedMail) -> tuple[Attachment, ...]:
        kept: list[Attachment] = []
        for index, part in enumerate(mail.attachments):
            url = self.files.save(
                mail.message_id, index, part.filename, part.content_type, part.data
            )
            kept.append(
                Attachment(
                    content_type=part.content_type,
                    url=url,
                    filename=part.filename,
                    size=len(part.data),
                )
            )
        return tuple(kept)

    async def _bounced(self, mail: ParsedMail) -> None:
        bounce = mail.bounce
        assert bounce is not None and self._on_status is not None
        if not bounce.permanent or not bounce.original_message_id:
            self._unanswered("delay-notice" if not bounce.permanent else "bounce-unmatched")
            return
        self._unanswered("bounce")
        await self._on_status(
            DeliveryUpdate(
                channel=NAME,
                provider_message_id=bounce.original_message_id,
                status=DeliveryStatus.FAILED,
                error_code=bounce.status,
                error_message=bounce.diagnostic,
            )
        )

    # -- outbound --------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        files = [await self._fetch(a) for a in message.attachments]
        mail = self.composer.compose(message, files)
        try:
            await aiosmtplib.send(
                mail,
                **self._relay,
                username=self.config.smtp.username or None,
                password=self.config.smtp.password or None,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            raise ChannelError(f"recipient refused ({codes})", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600 and exc.code not in (530, 535)
            raise ChannelError(f"relay said {exc.code}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise ChannelError(f"relay unreachable ({type(exc).__name__})") from exc
        return SendResult(provider_message_id=str(mail["Message-ID"]), status=DeliveryStatus.SENT)

    async def check_relay(self) -> None:
        """Connect, secure and log in to the relay, then quit; raises what went wrong.
        For ``omnihub email check``: a deployment finds a bad password before a citizen does."""
        async with aiosmtplib.SMTP(**self._relay) as client:
            if self.config.smtp.username:
                await client.login(self.config.smtp.username, self.config.smtp.password)

    async def check_mailbox(self) -> int:
        """Log in to the IMAP mailbox and count the mail waiting there, taking none."""
        from hub.channels.email.imap import ImapPoller

        async def untouched(raw: bytes, sender: str | None) -> None:
            raise MailDeferred("checking only")

        poller = ImapPoller(self.config.imap, untouched, ssl_context=self._imap_tls)
        return await poller.check()

    async def _fetch(self, attachment: Attachment) -> FilePart:
        """The bytes of an attachment the hub serves (the booking's QR code)."""
        if self._http is None:
            raise ChannelError("email channel not started")
        try:
            async with self._http.get(
                attachment.url, timeout=ClientTimeout(total=self.config.smtp.timeout_seconds)
            ) as response:
                if response.status != 200:
                    raise ChannelError(f"attachment answered {response.status}")
                data = await response.content.read(MAX_OUTBOUND_FILE + 1)
        except (ClientError, TimeoutError) as exc:
            raise ChannelError(f"attachment not fetched ({type(exc).__name__})") from exc
        if len(data) > MAX_OUTBOUND_FILE:
            raise ChannelError("attachment too large", permanent=True)
        filename = attachment.filename or attachment.url.rstrip("/").rpartition("/")[2]
        return FilePart(attachment.content_type, filename, data)

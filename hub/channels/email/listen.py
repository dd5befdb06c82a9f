"""Inbound mail over SMTP: the hub's own MX (or a forwarder's target).

An MTA delivers here exactly as it would to any mail server. Only the hub's own
address (and plus-addressed variants of it) is accepted at RCPT, so this can never
relay; there is no AUTH. Authentication-Results headers are kept only in mail
from ``trusted_hosts`` (the MTA in front that wrote them). A message is
acknowledged with ``250`` only after ``on_mail`` stored it; any failure answers
``451`` so the sending MTA keeps the mail in its queue and retries: nothing is
lost while the hub is down or busy.

Privacy: nothing logged here names an address or quotes a message, and aiosmtpd's
own logger (which logs every command, addresses included, at INFO) is muted below
WARNING and stripped of its arguments while a listener runs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from hub.channels.email.sender_auth import strip_authentication_results
from hub.client_ip import Network, trusted_networks
from hub.config import EmailListenConfig

log = logging.getLogger(__name__)

OnMail = Callable[[bytes, str | None], Awaitable[None]]
"""Store one raw message; arg 2 is the SMTP envelope sender ("" for the null sender <>),
None for IMAP. Returning means the mail is safely stored (or deliberately ignored);
raising MailDeferred (or any exception) means it is NOT stored and must be offered
again later."""

MAX_RECIPIENTS = 10
"""More RCPTs than this in one transaction is not a citizen writing to the mall."""

_STOP_GRACE_SECONDS = 5.0
"""How long stop() lets a delivery in progress finish before closing its connection."""


class MailDeferred(Exception):
    """The hub cannot take mail right now (shutting down, database down): try again later."""


class LibraryLogGuard(logging.Filter):
    """Keeps a mail library's logger from writing addresses or message text.

    aiosmtpd logs every SMTP command line (``MAIL FROM:<…>``) at INFO and aioimaplib
    every server line at DEBUG. Records below WARNING are dropped; the rest keep their
    format string with the arguments (the part that may carry personal data) replaced,
    and no traceback text. Attached to the library's logger only while in use.
    """

    _PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[rsdifxXeEgGc]")

    def __init__(self, logger_name: str) -> None:
        super().__init__()
        self._logger = logging.getLogger(logger_name)
        self._users = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        record.msg = self._PLACEHOLDER.sub("[…]", str(record.msg))
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True

    def attach(self) -> None:
        if self._users == 0:
            self._logger.addFilter(self)
        self._users += 1

    def detach(self) -> None:
        if self._users > 0:
            self._users -= 1
            if self._users == 0:
                self._logger.removeFilter(self)


def _split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().rpartition("@")
    return local.lower(), domain.lower()


class _Handler:
    """aiosmtpd hooks: recipient policy and the hand-over to ``on_mail``."""

    def __init__(
        self, own_address: str, on_mail: OnMail, trusted_hosts: tuple[Network, ...] = ()
    ) -> None:
        self._local, self._domain = _split_address(own_address)
        self._trusted_hosts = trusted_hosts
        self._on_mail = on_mail
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def _from_trusted_host(self, session: Session) -> bool:
        peer = session.peer[0] if isinstance(session.peer, tuple) and session.peer else ""
        try:
            ip = ipaddress.ip_address(str(peer).partition("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._trusted_hosts)

    def accepts(self, address: str) -> bool:
        """The hub's own address, any case, or its plus-addressed variants."""
        local, domain = _split_address(address)
        if domain != self._domain or not local:
            return False
        return local == self._local or local.startswith(self._local + "+")

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.accepts(address):
            return "550 5.1.1 recipient not accepted here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            content = envelope.content
            if isinstance(content, str):
                raw = content.encode("utf-8", errors="surrogateescape")
            else:
                raw = content or b""
        sender = envelope.mail_from or ""
        if sender == "<>":
            sender = ""
        if not self._from_trusted_host(session):
            # Only the MTA in front checks senders; what anyone else wrote there is forged.
            raw = strip_authentication_results(bytes(raw))
        self.in_flight += 1
        self.idle.clear()
        try:
            await self._on_mail(bytes(raw), sender)
        except MailDeferred:
            log.info("email: inbound mail deferred (451), the sender will retry")
            return "451 4.3.0 try again later"
        except Exception as exc:
            # The exception text may quote the mail; its type is enough to start looking.
            log.error("email: storing inbound mail failed (%s); answered 451", type(exc).__name__)
            return "451 4.3.0 try again later"
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()
        return "250 2.0.0 OK"


class MailListener:
    """An SMTP server on ``config.host:config.port`` taking mail for ``own_address`` only."""

    def __init__(self, config: EmailListenConfig, own_address: str, on_mail: OnMail) -> None:
        self._config = config
        self._handler = _Handler(own_address, on_mail, trusted_networks(config.trusted_hosts))
        self._hostname = _split_address(own_address)[1] or "localhost"
        self._server: asyncio.Server | None = None
        self._sessions: set[SMTP] = set()
        self._log_guard = LibraryLogGuard("mail.log")

    def _make_session(self) -> SMTP:
        session = _TrackedSMTP(
            self._sessions, self._handler, max_bytes=self._config.max_bytes, hostname=self._hostname
        )
        self._sessions.add(session)
        return session

    async def start(self) -> None:
        """Bind and listen; ``config.port`` 0 picks a free port (see :attr:`port`)."""
        if self._server is not None:
            return
        self._log_guard.attach()
        loop = asyncio.get_running_loop()
        try:
            # Several hub processes on one machine share the port; the kernel spreads
            # connections among them (Linux SO_REUSEPORT).
            self._server = await loop.create_server(
                self._make_session,
                host=self._config.host,
                port=self._config.port,
                reuse_port=hasattr(socket, "SO_REUSEPORT"),
            )
        except BaseException:
            self._log_guard.detach()
            raise
        log.info("email: SMTP listener on port %d", self.port)

    @property
    def port(self) -> int:
        """The bound port, once started."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("MailListener is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening; a delivery being stored gets a few seconds to finish."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            await asyncio.wait_for(self._handler.idle.wait(), _STOP_GRACE_SECONDS)
        except TimeoutError:
            log.warning("email: closing SMTP sessions with a delivery still in progress")
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await server.wait_closed()
        self._log_guard.detach()


class _TrackedSMTP(SMTP):
    """An SMTP session that leaves the listener's set when its connection ends."""

    def __init__(
        self, sessions: set[SMTP], handler: _Handler, *, max_bytes: int, hostname: str
    ) -> None:
        super().__init__(
            handler,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=hostname,
            ident="ESMTP omnihub",
            auth_exclude_mechanism=["LOGIN", "PLAIN"],
            loop=asyncio.get_running_loop(),
        )
        self._registry = sessions

    def connection_lost(self, exc: Exception | None) -> None:
        self._registry.discard(self)
        super().connection_lost(exc)

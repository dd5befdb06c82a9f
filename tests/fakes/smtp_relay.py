"""A mail relay for the hub to send through: a real SMTP server (aiosmtpd) that keeps
what it receives, so tests read the hub's mail as a citizen's provider would."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def mail(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class _Handler:
    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.relay.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.relay.fail_next > 0:
            self.relay.fail_next -= 1
            return "451 4.3.0 try again later"
        content = envelope.original_content or b""
        self.relay.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
        )
        self.relay.arrived.set()
        return "250 2.0.0 OK"


class SmtpRelay:
    """``received`` in arrival order; ``refuse`` addresses get 550 at RCPT; the next
    ``fail_next`` mails get 451 (a relay in trouble)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.fail_next = 0
        self.arrived = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> SmtpRelay:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(_Handler(self), hostname="relay.test", enable_SMTPUTF8=True),
            host="127.0.0.1",
            port=port,
        )
        sock: Any = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Until ``count`` mails have arrived in all; fails the test on timeout."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received[:count]

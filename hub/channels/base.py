"""The contract every channel adapter keeps.

A channel verifies, parses and normalises; it never decides anything. It gets a
callback for inbound messages (never the hub itself) and mounts its own routes,
like Rasa's ``InputChannel.blueprint``. Outbound needs only text; a channel that
cannot show buttons gets a numbered menu from the renderer.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import ClientSession, web

from hub.model import AddressKind, DeliveryUpdate, InboundMessage, OutboundMessage, SendResult


class Acceptance(Protocol):
    """What the inbound pipeline tells a channel once an inbound message is persisted."""

    @property
    def duplicate(self) -> bool: ...


OnMessage = Callable[[InboundMessage], Awaitable[Acceptance]]
"""Persist an inbound message; once it returns, the provider may be acknowledged.
It raises ValueError for a sender address that cannot be normalised (answer 400)."""

NotAnswered = Callable[[str, str], None]
"""Count a message a channel took without handing it to the bot: (channel, reason)."""

OnStatus = Callable[[DeliveryUpdate], Awaitable[bool]]
"""Record a delivery status; returns False when the message is unknown (still answer 2xx)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can show, so the renderer can fall back gracefully."""

    max_text_length: int = 4096
    buttons: bool = False
    max_buttons: int = 0
    html: bool = False
    attachments: bool = False
    address_kind: AddressKind = AddressKind.OPAQUE
    session_window_hours: int | None = None
    """WhatsApp's customer-service window: free-form replies only this long after the
    citizen's last message; outside it the dispatcher marks messages ``window_open=False``."""
    threaded: bool = False
    """Email: messages carry a subject and Message-IDs; the answers to one message
    leave as one mail in the same thread instead of one message per reply."""
    thread_idle_hours: float | None = None
    """Threaded channels: a message that names no earlier one continues the sender's
    open conversation only if it was active this recently; None: always continue."""


@dataclass(frozen=True, slots=True)
class RouteDef:
    """One HTTP route, relative to the app's root."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]


class ChannelError(Exception):
    """A send that failed; ``permanent`` ones are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(abc.ABC):
    """One provider. ``name`` is the channel key stored with every message."""

    name: str
    capabilities: Capabilities

    def routes(self, on_message: OnMessage, on_status: OnStatus) -> list[RouteDef]:
        """HTTP routes to mount; channels without webhooks mount none."""
        return []

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message; raise :class:`ChannelError` when the provider refuses."""

    async def start(self, http: ClientSession) -> None:  # noqa: B027 - optional hook
        """Open connections; ``http`` is the hub's one shared client session."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Close connections; called once when the app stops."""

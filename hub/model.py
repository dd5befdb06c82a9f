"""The canonical types every room of the hub speaks.

Channels translate provider payloads into these at the edge; nothing behind the
inbound pipeline ever sees a provider's format. Instances are frozen and slotted so a
message cannot be changed on its way through the pipeline; provider fields we do
not model are kept read-only in ``raw`` (like python-telegram-bot's ``api_kwargs``).

The coordination contracts (:class:`PubSub`, :class:`Locks`, :class:`Coordination`)
live here too: channels and the pipeline both speak them, channels may import
nothing of hub but this module and the config, and ``hub.coordination`` implements
them (its ``Coordinator`` adds dedupe keys and health).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol


def utcnow() -> datetime:
    """Aware UTC now; the store keeps every timestamp in UTC."""
    return datetime.now(UTC)


def _freeze(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class ConversationStatus(enum.StrEnum):
    BOT = "bot"
    HANDOFF = "handoff"
    OFFICER = "officer"
    CLOSED = "closed"


class ProcessingState(enum.StrEnum):
    """Where an inbound message stands in the pipeline; survives restarts."""

    PENDING = "pending"
    HANDLED = "handled"
    FAILED = "failed"
    DUPLICATE = "duplicate"


class AddressKind(enum.StrEnum):
    """How a channel names its users; phone addresses are normalised to E.164."""

    PHONE = "phone"
    PHONE_OR_NAME = "phone_or_name"
    OPAQUE = "opaque"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the citizen sent or the hub sends; fetched lazily through ``url``."""

    content_type: str
    url: str = ""
    filename: str = ""
    size: int | None = None
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "content_type": self.content_type,
            "url": self.url,
            "filename": self.filename,
            "size": self.size,
            "caption": self.caption,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(
            content_type=str(data.get("content_type", "application/octet-stream")),
            url=str(data.get("url", "")),
            filename=str(data.get("filename", "")),
            size=data.get("size"),
            caption=str(data.get("caption", "")),
        )


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    name: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """An option offered to the citizen: a button, or a numbered line on SMS."""

    title: str
    payload: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a citizen, as the channel understood it."""

    channel: str
    sender: str
    provider_message_id: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    choice_payload: str | None = None
    reply_to: str | None = None
    sender_name: str = ""
    subject: str = ""
    """Email only: the subject line, kept on a new conversation."""
    thread: tuple[str, ...] = ()
    """Email only: the Message-IDs this mail answers (References, oldest first); the
    inbound pipeline finds the conversation by them."""
    hold: str = ""
    """A reason for the bot to stay silent and hand the conversation to officers (email:
    a sender writing faster than any person, likely a robot answering our robot)."""
    verified: bool | None = None
    """Email only: False when no trusted server vouched for the sender (a From anyone may
    write). Such a message starts a conversation of its own, never joins the history of
    the address it claims. None: the channel's provider names the sender (a phone)."""
    received_at: datetime = field(default_factory=utcnow)
    raw: Mapping[str, Any] = field(default_factory=lambda: _freeze(None))

    def __post_init__(self) -> None:
        if not self.channel or not self.sender or not self.provider_message_id:
            raise ValueError("channel, sender and provider_message_id are required")
        if not isinstance(self.raw, MappingProxyType):
            object.__setattr__(self, "raw", _freeze(self.raw))


@dataclass(frozen=True, slots=True)
class Reply:
    """What a dialog wants said, before it is rendered for a channel and locale."""

    template: str
    context: Mapping[str, Any] = field(default_factory=lambda: _freeze(None))
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    lead: Reply | None = None
    """A short line said first, in the same message ("Kembali ke pemesanan antrean
    Paspor:" before the question a flow asks again): one SMS rather than two, and
    never out of order."""

    def __post_init__(self) -> None:
        if not isinstance(self.context, MappingProxyType):
            object.__setattr__(self, "context", _freeze(self.context))


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A rendered message ready for a channel's ``send``."""

    channel: str
    recipient: str
    text: str
    choices: tuple[Choice, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    template_key: str = ""
    template_variables: tuple[str, ...] = ()
    locale: str = "id"
    reply_to: str | None = None
    idempotency_key: str = ""
    window_open: bool = True
    """False when a provider's customer-service window (WhatsApp: 24 h) has closed;
    set by the dispatcher at send time, so the channel sends an approved template."""
    subject: str = ""
    """Email only: the conversation's subject (the channel adds ``Re:``)."""
    references: tuple[str, ...] = ()
    """Email only: the thread's Message-IDs, oldest first; the last is ``In-Reply-To``."""
    automated: bool = True
    """False for an officer's own words: email marks bot answers ``Auto-Submitted``."""
    bulk: bool = False
    """An announcement, not an answer: email gives it its own subject, outside the thread."""
    unsubscribe_url: str = ""
    """Email only, announcements: the one-click link of ``List-Unsubscribe`` (RFC 8058)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "recipient": self.recipient,
            "text": self.text,
            "choices": [c.to_dict() for c in self.choices],
            "attachments": [a.to_dict() for a in self.attachments],
            "template_key": self.template_key,
            "template_variables": list(self.template_variables),
            "locale": self.locale,
            "reply_to": self.reply_to,
            "idempotency_key": self.idempotency_key,
            "subject": self.subject,
            "references": list(self.references),
            "automated": self.automated,
            "bulk": self.bulk,
            "unsubscribe_url": self.unsubscribe_url,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutboundMessage:
        return cls(
            channel=str(data["channel"]),
            recipient=str(data["recipient"]),
            text=str(data.get("text", "")),
            choices=tuple(
                Choice(str(c["title"]), str(c["payload"])) for c in data.get("choices", [])
            ),
            attachments=tuple(Attachment.from_dict(a) for a in data.get("attachments", [])),
            template_key=str(data.get("template_key", "")),
            template_variables=tuple(str(v) for v in data.get("template_variables", [])),
            locale=str(data.get("locale", "id")),
            reply_to=data.get("reply_to"),
            idempotency_key=str(data.get("idempotency_key", "")),
            subject=str(data.get("subject", "")),
            references=tuple(str(r) for r in data.get("references", [])),
            automated=bool(data.get("automated", True)),
            bulk=bool(data.get("bulk", False)),
            unsubscribe_url=str(data.get("unsubscribe_url", "")),
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a provider said when it accepted a message."""

    provider_message_id: str = ""
    status: DeliveryStatus = DeliveryStatus.SENT
    segments: int | None = None
    """SMS only: how many segments the provider will bill."""


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A provider's later word on an outbound message (Twilio status callback, Meta status)."""

    channel: str
    provider_message_id: str
    status: DeliveryStatus
    error_code: str = ""
    error_message: str = ""
    at: datetime = field(default_factory=utcnow)


class PubSub(Protocol):
    """Fan-out between hub processes (in-process or Redis)."""

    async def publish(self, topic: str, data: str) -> int:
        """Send ``data`` to every current subscriber of ``topic``; returns how many."""

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Receive what is published on ``topic`` while the context is open."""


class Locks(Protocol):
    """Locks shared by hub processes (in-process or Redis)."""

    def lock(
        self, key: str, *, lease_seconds: float = 30.0, wait_seconds: float = 60.0
    ) -> AbstractAsyncContextManager[None]:
        """Hold ``key`` exclusively; waiters get it in turn. Entering raises
        ``hub.coordination.LockTimeout`` when it cannot be taken within ``wait_seconds``."""


class Coordination(PubSub, Locks, Protocol):
    """What the hub's coordinator offers channels: fan-out and shared locks."""

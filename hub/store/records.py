"""Plain records the store hands out, so callers never touch SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.model import ConversationStatus


@dataclass(slots=True)
class ConversationRecord:
    id: int
    contact_id: int
    status: ConversationStatus
    channel: str
    address: str
    locale: str
    state: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    """The subject of an email conversation, kept for the ``Re:`` of every answer."""
    thread: tuple[str, ...] = ()
    """Message-IDs an email answer refers to, oldest first; empty on other channels."""


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A persisted inbound message waiting for (or done with) the pipeline."""

    id: int
    conversation_id: int
    channel: str
    provider_message_id: str
    text: str
    choice_payload: str | None
    attachments: list[dict[str, Any]]
    created_at: datetime
    sealed_niks: tuple[str, ...] = ()
    """NIKs the text held, encrypted (hub.security.vault): the text itself is stored masked."""


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    message_id: int
    conversation_id: int
    channel: str
    payload: dict[str, Any]
    attempts: int

"""What the officers' inbox reads: conversations waiting for a person, and a
citizen's whole history across their channels, with delivery status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.model import ConversationStatus
from hub.store.tables import contacts, conversations, messages


@dataclass(frozen=True, slots=True)
class WaitingConversation:
    id: int
    contact_id: int
    display_name: str
    status: str
    channel: str
    locale: str
    handoff_at: datetime | None
    handoff_reason: str | None
    claimed_by: int | None
    last_text: str
    last_at: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    id: int
    conversation_id: int
    direction: str
    channel: str
    author: str
    text: str
    attachments: list[dict[str, Any]]
    delivery_status: str | None
    delivery_error: str | None
    created_at: datetime


async def waiting(conn: AsyncConnection, *, limit: int = 200) -> list[WaitingConversation]:
    """Conversations in ``handoff`` or ``officer``, the longest-waiting first."""
    last = (
        sa.select(messages.c.conversation_id, sa.func.max(messages.c.id).label("last_id"))
        .where(messages.c.direction == "inbound")
        .group_by(messages.c.conversation_id)
        .subquery()
    )
    rows = await conn.execute(
        sa.select(
            conversations,
            contacts.c.display_name,
            messages.c.text.label("last_text"),
            messages.c.created_at.label("last_at"),
        )
        .join(contacts, contacts.c.id == conversations.c.contact_id)
        .outerjoin(last, last.c.conversation_id == conversations.c.id)
        .outerjoin(messages, messages.c.id == last.c.last_id)
        .where(
            conversations.c.status.in_(
                [ConversationStatus.HANDOFF.value, ConversationStatus.OFFICER.value]
            )
        )
        .order_by(conversations.c.handoff_at.asc().nulls_last(), conversations.c.id)
        .limit(limit)
    )
    return [_waiting(r, str(r.last_text or ""), r.last_at) for r in rows]


async def conversation(conn: AsyncConnection, conversation_id: int) -> WaitingConversation | None:
    row = (
        await conn.execute(
            sa.select(conversations, contacts.c.display_name)
            .join(contacts, contacts.c.id == conversations.c.contact_id)
            .where(conversations.c.id == conversation_id)
        )
    ).one_or_none()
    return None if row is None else _waiting(row, "", None)


def _waiting(row: sa.Row[Any], last_text: str, last_at: datetime | None) -> WaitingConversation:
    return WaitingConversation(
        id=int(row.id),
        contact_id=int(row.contact_id),
        display_name=str(row.display_name or ""),
        status=str(row.status),
        channel=str(row.channel),
        locale=str(row.locale),
        handoff_at=row.handoff_at,
        handoff_reason=row.handoff_reason,
        claimed_by=row.claimed_by,
        last_text=last_text,
        last_at=last_at,
    )


async def history(
    conn: AsyncConnection, contact_id: int, *, limit: int = 200
) -> list[HistoryMessage]:
    """The contact's latest messages over all their conversations and channels, oldest first."""
    rows = await conn.execute(
        sa.select(messages)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(conversations.c.contact_id == contact_id)
        .order_by(messages.c.id.desc())
        .limit(limit)
    )
    found = [
        HistoryMessage(
            id=int(r.id),
            conversation_id=int(r.conversation_id),
            direction=str(r.direction),
            channel=str(r.channel),
            author=str(r.author),
            text=str(r.text or ""),
            attachments=list(r.attachments or []),
            delivery_status=r.delivery_status,
            delivery_error=r.delivery_error,
            created_at=r.created_at,
        )
        for r in rows
    ]
    found.reverse()
    return found

"""What the officers' inbox reads: conversations waiting for a person, and a
citizen's whole history across their channels, with delivery status.

Each conversation comes with its contact's CARE discretion (did they ever file a
confidential or an anonymous ticket), so that whoever shows it can apply
``hub.care.access.conversation_access`` without a second query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.model import ConversationStatus
from hub.store.tables import contacts, conversations, messages, tickets


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
    confidential: bool = False
    """The contact filed a confidential CARE ticket (on any channel, in any status)."""
    anonymous: bool = False
    """The contact filed an anonymous CARE ticket."""
    bot_answers: bool = False
    """Waiting, yet the bot still answers the citizen's clear requests until an officer
    claims it (a handoff after misunderstandings, or outside office hours)."""


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


def _filed(flag: sa.Column[bool]) -> sa.Exists:
    """Whether the row's contact filed a ticket with ``flag`` set, in this conversation or
    any other. A ticket's conversation is its contact's (the dialog files a ticket with
    the contact and the conversation the citizen is writing in), so the contact alone
    decides, through ``ix_tickets_contact``."""
    return (
        sa.exists()
        .where(tickets.c.contact_id == conversations.c.contact_id, flag.is_(True))
        .correlate(conversations)
    )


def _discretion() -> tuple[sa.Label[bool], sa.Label[bool]]:
    return (
        _filed(tickets.c.confidential).label("confidential"),
        _filed(tickets.c.anonymous).label("anonymous"),
    )


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
            *_discretion(),
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
            sa.select(conversations, contacts.c.display_name, *_discretion())
            .join(contacts, contacts.c.id == conversations.c.contact_id)
            .where(conversations.c.id == conversation_id)
        )
    ).one_or_none()
    return None if row is None else _waiting(row, "", None)


SERVED_KEY = "served"
"""The dialog state's mark of a handoff the bot keeps serving (hub.dialogs.engine.SERVED);
the store only reads it."""


def _waiting(row: sa.Row[Any], last_text: str, last_at: datetime | None) -> WaitingConversation:
    state = row.state if isinstance(row.state, dict) else {}
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
        confidential=bool(row.confidential),
        anonymous=bool(row.anonymous),
        bot_answers=row.status == ConversationStatus.HANDOFF.value and bool(state.get(SERVED_KEY)),
    )


async def history(
    conn: AsyncConnection,
    contact_id: int,
    *,
    limit: int = 200,
    conversation_id: int | None = None,
) -> list[HistoryMessage]:
    """The contact's latest messages over all their conversations and channels, oldest
    first; only those of ``conversation_id`` when given (an anonymous reporter's other
    conversations would say who they are)."""
    where = [conversations.c.contact_id == contact_id]
    if conversation_id is not None:
        where.append(messages.c.conversation_id == conversation_id)
    rows = await conn.execute(
        sa.select(messages)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(*where)
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

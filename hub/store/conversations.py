"""Conversations: a contact's thread, its status, dialog state and answer channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import pii
from hub.model import ConversationStatus, utcnow
from hub.store.records import ConversationRecord
from hub.store.tables import conversations, messages

THREAD_KEEP = 30
"""Message-IDs kept per conversation: the first (the thread's root) and the latest."""


def _record(row: sa.Row[Any]) -> ConversationRecord:
    return ConversationRecord(
        id=int(row.id),
        contact_id=int(row.contact_id),
        status=ConversationStatus(row.status),
        channel=str(row.channel),
        address=str(row.address),
        locale=str(row.locale),
        state=dict(row.state or {}),
        subject=str(row.subject or ""),
        thread=tuple(str(i) for i in (row.thread or ())),
    )


@dataclass(frozen=True, slots=True)
class Threading:
    """What a threaded channel (email) says about where a message belongs."""

    message_id: str
    refers_to: tuple[str, ...] = ()
    """The ids the message answers, oldest first (References, In-Reply-To)."""
    subject: str = ""
    idle_after: timedelta | None = None
    """Without a known reference, the open conversation continues only if it was
    active this recently; None: it always continues."""


def _joined_thread(refers_to: tuple[str, ...], message_id: str) -> list[str]:
    ids = list(dict.fromkeys((*refers_to, message_id)))
    if len(ids) > THREAD_KEEP:
        ids = [ids[0], *ids[-(THREAD_KEEP - 1) :]]
    return ids


async def _refers_to_conversation(
    conn: AsyncConnection, conversation_id: int, channel: str, ids: tuple[str, ...]
) -> bool:
    if not ids:
        return False
    found = await conn.scalar(
        sa.select(messages.c.id)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.channel == channel,
            messages.c.provider_message_id.in_(ids),
        )
        .limit(1)
    )
    return found is not None


async def _continues(
    conn: AsyncConnection, row: sa.Row[Any], channel: str, threading: Threading | None, at: datetime
) -> bool:
    """Whether a message belongs to the contact's open conversation ``row``.

    Officers' conversations always continue (nobody's question is dropped under
    them); otherwise a mail that answers one of the conversation's messages does,
    and one that names none only while the conversation is recent."""
    if threading is None or threading.idle_after is None:
        return True
    if row.status != ConversationStatus.BOT.value:
        return True
    if await _refers_to_conversation(conn, int(row.id), channel, threading.refers_to):
        return True
    last = row.updated_at or row.created_at
    return bool(last is None or at - last <= threading.idle_after)


async def open_for_inbound(
    conn: AsyncConnection,
    contact_id: int,
    channel: str,
    address: str,
    locale: str,
    at: datetime,
    threading: Threading | None = None,
) -> ConversationRecord:
    """The contact's open conversation (created if none); it now answers on ``channel``.

    With ``threading`` (email), a stale conversation the mail does not refer to is
    closed and a new one started, and the conversation keeps the subject and the
    Message-IDs its answers must refer to."""
    row = (
        await conn.execute(
            sa.select(conversations)
            .where(
                conversations.c.contact_id == contact_id,
                conversations.c.status != ConversationStatus.CLOSED.value,
            )
            .order_by(conversations.c.id.desc())
            .limit(1)
        )
    ).first()
    now = utcnow()
    if row is not None and not await _continues(conn, row, channel, threading, at):
        await conn.execute(
            sa.update(conversations)
            .where(conversations.c.id == row.id)
            .values(status=ConversationStatus.CLOSED.value, closed_at=now, updated_at=now)
        )
        row = None
    thread_values: dict[str, Any] = {}
    if threading is not None:
        thread_values["thread"] = _joined_thread(threading.refers_to, threading.message_id)
        if threading.subject:
            thread_values["subject"] = pii.mask(threading.subject)[:500]
    if row is None:
        return await _start(
            conn, contact_id, channel, address, locale, last_inbound_at=at, **thread_values
        )
    await conn.execute(
        sa.update(conversations)
        .where(conversations.c.id == row.id)
        .values(
            channel=channel, address=address, last_inbound_at=at, updated_at=now, **thread_values
        )
    )
    record = _record(row)
    record.channel, record.address = channel, address
    if threading is not None:
        record.thread = tuple(thread_values["thread"])
        record.subject = str(thread_values.get("subject", record.subject))
    return record


async def open_for_notice(
    conn: AsyncConnection, contact_id: int, channel: str, address: str, locale: str
) -> ConversationRecord:
    """The contact's open conversation, or a new one on ``channel``: where a message the
    citizen did not prompt (an announcement) goes, so their answer continues it."""
    row = (
        await conn.execute(
            sa.select(conversations)
            .where(
                conversations.c.contact_id == contact_id,
                conversations.c.status != ConversationStatus.CLOSED.value,
            )
            .order_by(conversations.c.id.desc())
            .limit(1)
        )
    ).first()
    if row is not None:
        return _record(row)
    return await _start(conn, contact_id, channel, address, locale)


async def _start(
    conn: AsyncConnection,
    contact_id: int,
    channel: str,
    address: str,
    locale: str,
    **values: Any,
) -> ConversationRecord:
    """A new conversation with the bot; ``values`` are further columns (threading)."""
    now = utcnow()
    new_id = await conn.scalar(
        sa.insert(conversations)
        .values(
            contact_id=contact_id,
            status=ConversationStatus.BOT.value,
            channel=channel,
            address=address,
            locale=locale,
            state={},
            created_at=now,
            updated_at=now,
            **values,
        )
        .returning(conversations.c.id)
    )
    return ConversationRecord(
        id=int(new_id or 0),
        contact_id=contact_id,
        status=ConversationStatus.BOT,
        channel=channel,
        address=address,
        locale=locale,
        subject=str(values.get("subject", "")),
        thread=tuple(values.get("thread", ())),
    )


async def get(conn: AsyncConnection, conversation_id: int) -> ConversationRecord | None:
    row = (
        await conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id))
    ).first()
    return _record(row) if row is not None else None


async def save_dialog(
    conn: AsyncConnection,
    conversation_id: int,
    *,
    state: dict[str, Any],
    locale: str,
    status: ConversationStatus | None = None,
) -> None:
    """Store the dialog state, masked (hub.pii): a flow keeps a NIK only as ciphertext."""
    values: dict[str, Any] = {
        "state": pii.mask_json(state),
        "locale": locale,
        "updated_at": utcnow(),
    }
    if status is not None:
        values["status"] = status.value
        if status is ConversationStatus.CLOSED:
            values["closed_at"] = utcnow()
    await conn.execute(
        sa.update(conversations).where(conversations.c.id == conversation_id).values(**values)
    )


async def hand_off(conn: AsyncConnection, conversation_id: int, reason: str, at: datetime) -> None:
    """The bot steps aside: officers answer this conversation from now on."""
    await conn.execute(
        sa.update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(
            status=ConversationStatus.HANDOFF.value,
            handoff_at=at,
            handoff_reason=reason[:32],
            claimed_by=None,
            updated_at=at,
        )
    )


async def claim(conn: AsyncConnection, conversation_id: int, officer_id: int, at: datetime) -> bool:
    """An officer takes a waiting conversation; False when another was quicker."""
    result = await conn.execute(
        sa.update(conversations)
        .where(
            conversations.c.id == conversation_id,
            conversations.c.status == ConversationStatus.HANDOFF.value,
        )
        .values(status=ConversationStatus.OFFICER.value, claimed_by=officer_id, updated_at=at)
    )
    return bool(result.rowcount == 1)


async def release(
    conn: AsyncConnection,
    conversation_id: int,
    to: ConversationStatus,
    at: datetime,
    *,
    status: ConversationStatus | None = None,
    claimed_by: int | None = None,
) -> bool:
    """Back to the bot (``bot``, dialog state cleared) or ``closed``, from handoff or officer.

    ``status`` and ``claimed_by``, when given, must still hold: what the caller checked
    its permission against, so a colleague's claim in between makes this a no-op."""
    if status not in (None, ConversationStatus.HANDOFF, ConversationStatus.OFFICER):
        return False
    values: dict[str, Any] = {"status": to.value, "claimed_by": None, "updated_at": at}
    if to is ConversationStatus.BOT:
        values["state"] = {}
    if to is ConversationStatus.CLOSED:
        values["closed_at"] = at
    result = await conn.execute(
        sa.update(conversations)
        .where(
            conversations.c.id == conversation_id,
            conversations.c.status.in_(
                [ConversationStatus.HANDOFF.value, ConversationStatus.OFFICER.value]
                if status is None
                else [status.value]
            ),
            sa.true()
            if status is None
            else (
                conversations.c.claimed_by.is_(None)
                if claimed_by is None
                else conversations.c.claimed_by == claimed_by
            ),
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)

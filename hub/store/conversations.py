"""Conversations: a contact's thread, its status, dialog state and answer channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.model import ConversationStatus, utcnow
from hub.store.records import ConversationRecord
from hub.store.tables import conversations


def _record(row: sa.Row[Any]) -> ConversationRecord:
    return ConversationRecord(
        id=int(row.id),
        contact_id=int(row.contact_id),
        status=ConversationStatus(row.status),
        channel=str(row.channel),
        address=str(row.address),
        locale=str(row.locale),
        state=dict(row.state or {}),
    )


async def open_for_inbound(
    conn: AsyncConnection, contact_id: int, channel: str, address: str, locale: str, at: datetime
) -> ConversationRecord:
    """The contact's open conversation (created if none); it now answers on ``channel``."""
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
    if row is None:
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
                last_inbound_at=at,
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
        )
    await conn.execute(
        sa.update(conversations)
        .where(conversations.c.id == row.id)
        .values(channel=channel, address=address, last_inbound_at=at, updated_at=now)
    )
    record = _record(row)
    record.channel, record.address = channel, address
    return record


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
    values: dict[str, Any] = {"state": state, "locale": locale, "updated_at": utcnow()}
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

"""The outbox table: every outbound message is written here before it is sent.

Rows are claimed with a lease by a conditional UPDATE, so two dispatchers (even
in two processes) never send the same row; a row whose sender died is taken
again once its lease runs out. Only the oldest unsent row of a conversation is
claimable, which keeps a citizen's replies in order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import pii
from hub.model import utcnow
from hub.store.database import Database
from hub.store.records import OutboxRecord
from hub.store.tables import outbox

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
CANCELLED = "cancelled"
"""An announcement row taken back before it left (hub.store.announcements)."""
UNSENT = (PENDING, SENDING)
LIVE, BULK = 0, 1
"""Lanes: replies, notices and officers' answers are live; announcements are bulk, so a
free dispatcher slot always takes a live row first."""


MASKED_KEYS = ("text", "subject", "template_variables")
"""What of a payload is words (masked, hub.pii); the recipient and ids must stay usable."""


def masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as stored and sent: NIKs and phone numbers in its words masked."""
    masked = {k: pii.mask_json(v) if k in MASKED_KEYS else v for k, v in payload.items()}
    if isinstance(payload.get("attachments"), list):
        masked["attachments"] = [
            {**a, **{k: pii.mask(str(a[k])) for k in ("caption", "filename") if a.get(k)}}
            if isinstance(a, dict)
            else a
            for a in payload["attachments"]
        ]
    return masked


async def enqueue(
    conn: AsyncConnection,
    *,
    message_id: int,
    conversation_id: int,
    channel: str,
    payload: dict[str, Any],
    lane: int = LIVE,
) -> int:
    """Queue one message to send; its words are masked (hub.pii) like every stored text."""
    now = utcnow()
    new_id = await conn.scalar(
        sa.insert(outbox)
        .values(
            message_id=message_id,
            conversation_id=conversation_id,
            channel=channel,
            payload=masked_payload(payload),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            lane=lane,
        )
        .returning(outbox.c.id)
    )
    return int(new_id or 0)


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now),
        sa.and_(outbox.c.status == SENDING, outbox.c.lease_until < now),
    )


async def claim_due(
    db: Database, channels: list[str], limit: int, lease_seconds: float
) -> list[OutboxRecord]:
    """Take up to ``limit`` due rows, each the oldest unsent one of its conversation."""
    now = utcnow()
    heads = (
        sa.select(sa.func.min(outbox.c.id))
        .where(outbox.c.status.in_(UNSENT))
        .group_by(outbox.c.conversation_id)
        .scalar_subquery()
    )
    async with db.begin() as conn:
        rows = (
            await conn.execute(
                sa.select(outbox)
                .where(outbox.c.id.in_(heads), outbox.c.channel.in_(channels), _claimable(now))
                .order_by(outbox.c.lane, outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
                # PostgreSQL: dispatchers racing for work take different rows instead of
                # queueing on the same one (SQLite has one writer and ignores this).
                .with_for_update(skip_locked=True)
            )
        ).all()
        claimed: list[OutboxRecord] = []
        lease_until = now + timedelta(seconds=lease_seconds)
        for row in rows:
            result = await conn.execute(
                sa.update(outbox)
                .where(outbox.c.id == row.id, _claimable(now))
                .values(status=SENDING, lease_until=lease_until, attempts=outbox.c.attempts + 1)
            )
            if result.rowcount == 1:
                claimed.append(
                    OutboxRecord(
                        id=int(row.id),
                        message_id=int(row.message_id),
                        conversation_id=int(row.conversation_id),
                        channel=str(row.channel),
                        payload=dict(row.payload),
                        attempts=int(row.attempts) + 1,
                    )
                )
    return claimed


async def mark_sent(conn: AsyncConnection, outbox_id: int) -> None:
    await conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(status=SENT, sent_at=utcnow(), lease_until=None, last_error=None)
    )


async def mark_retry(conn: AsyncConnection, outbox_id: int, error: str, at: datetime) -> None:
    await conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(status=PENDING, next_attempt_at=at, lease_until=None, last_error=error)
    )


async def mark_failed(conn: AsyncConnection, outbox_id: int, error: str) -> None:
    await conn.execute(
        sa.update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(status=FAILED, lease_until=None, last_error=error)
    )


async def depth(db: Database) -> int:
    """How many rows wait to be sent; exported as a metric."""
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status.in_(UNSENT))
        )
    return int(value or 0)


async def next_due_in(db: Database, channels: list[str]) -> float | None:
    """Seconds until the next pending row is due, so the dispatcher can sleep exactly."""
    async with db.engine.connect() as conn:
        at: datetime | None = await conn.scalar(
            sa.select(sa.func.min(outbox.c.next_attempt_at)).where(
                outbox.c.status == PENDING, outbox.c.channel.in_(channels)
            )
        )
    if at is None:
        return None
    return max(0.0, (at - utcnow()).total_seconds())


async def status_of(conn: AsyncConnection, outbox_id: int) -> dict[str, Any]:
    row = (await conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id))).one()
    return dict(row._mapping)

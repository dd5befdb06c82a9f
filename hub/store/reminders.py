"""Sent booking reminders: the row is the claim, so a reminder goes once.

``claim`` inserts the reminder's row and reports whether this caller made it; the
unique key (booking, kind, day, session) makes a second insert, by another process
or after a restart, a no-op. Done in the same transaction as queueing the message,
a reminder is either claimed and queued, or neither.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.database import Database
from hub.store.tables import booking_reminders


async def claim(
    db: Database,
    conn: AsyncConnection,
    *,
    booking_id: int,
    kind: str,
    day: date,
    session: str,
    due_at: datetime,
    at: datetime,
) -> bool:
    """True when this call recorded the reminder; False when it had been sent already."""
    inserted = await conn.scalar(
        db.insert(booking_reminders)
        .values(
            booking_id=booking_id,
            kind=kind,
            day=day,
            session=session,
            due_at=due_at,
            sent_at=at,
        )
        .on_conflict_do_nothing(index_elements=["booking_id", "kind", "day", "session"])
        .returning(booking_reminders.c.id)
    )
    return inserted is not None

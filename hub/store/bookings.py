"""Queue bookings, session places and queue numbers.

Every guarantee is one SQL statement that no race can beat, so it holds with many
hub processes on PostgreSQL as on SQLite:

- a place is taken by ``UPDATE booking_slots SET taken = taken + 1 WHERE … AND
  taken < capacity RETURNING taken``: the row lock (PostgreSQL re-checks the WHERE
  after waiting for it) or SQLite's single writer makes the test and the increment
  one step; a CHECK constraint backs it up;
- a queue number is ``UPDATE queue_counters SET last_number = last_number + 1
  RETURNING last_number``, so two bookings never share one;
- one active booking per contact, service and day is a partial unique index;
- status changes are conditional UPDATEs (``WHERE status = 'booked'``), so a place
  is given back exactly once even if two officers cancel at the same moment.

Callers run these inside one transaction with the booking row, so a refusal or an
error anywhere rolls back the place and the number too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.counters import next_in_sequence
from hub.store.database import Database
from hub.store.tables import booking_slots, bookings, queue_counters


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    SERVED = "served"
    NO_SHOW = "no_show"


ACTIVE = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)
"""The statuses that hold a place; the partial unique index lists the same two."""


@dataclass(frozen=True, slots=True)
class BookingRecord:
    id: int
    code: str
    contact_id: int
    conversation_id: int | None
    service_id: str
    day: date
    session: str
    queue_number: int
    queue_label: str
    counter: str
    status: BookingStatus
    channel: str
    created_at: datetime
    updated_at: datetime
    checked_in_at: datetime | None
    cancelled_at: datetime | None
    applicant_name: str | None = None
    applicant_nik: str | None = None
    """The applicant's NIK as ciphertext (hub.security.vault), never in clear;
    None when not given."""


def _record(row: Any) -> BookingRecord:
    return BookingRecord(
        id=int(row.id),
        code=str(row.code),
        contact_id=int(row.contact_id),
        conversation_id=None if row.conversation_id is None else int(row.conversation_id),
        service_id=str(row.service_id),
        day=row.day,
        session=str(row.session),
        queue_number=int(row.queue_number),
        queue_label=str(row.queue_label),
        counter=str(row.counter),
        status=BookingStatus(row.status),
        channel=str(row.channel),
        created_at=row.created_at,
        updated_at=row.updated_at,
        checked_in_at=row.checked_in_at,
        cancelled_at=row.cancelled_at,
        applicant_name=row.applicant_name,
        applicant_nik=row.applicant_nik,
    )


def _slot(service_id: str, day: date, session: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        booking_slots.c.service_id == service_id,
        booking_slots.c.day == day,
        booking_slots.c.session == session,
    )


# --- places --------------------------------------------------------------------------------


async def take_place(
    db: Database, conn: AsyncConnection, service_id: str, day: date, session: str, capacity: int
) -> int | None:
    """Take one place of a session; the new ``taken``, or None when it is full.

    One statement: the slot row is created with its first place taken, or its
    ``taken`` goes up by one only while below ``capacity`` (``ON CONFLICT DO UPDATE
    … WHERE``, which PostgreSQL evaluates on the locked, latest row). The capacity is
    the calendar's on first use; a later change of the catalogue's quota does not
    resize a day already opened.
    """
    if capacity < 1:
        return None
    insert = db.insert(booking_slots).values(
        service_id=service_id, day=day, session=session, capacity=capacity, taken=1
    )
    taken = await conn.scalar(
        insert.on_conflict_do_update(
            index_elements=["service_id", "day", "session"],
            set_={"taken": booking_slots.c.taken + 1},
            where=booking_slots.c.taken < booking_slots.c.capacity,
        ).returning(booking_slots.c.taken)
    )
    return None if taken is None else int(taken)


async def release_places(
    conn: AsyncConnection, service_id: str, day: date, session: str, count: int = 1
) -> None:
    """Give ``count`` places of a session back (cancel, no-show, reschedule)."""
    await conn.execute(
        sa.update(booking_slots)
        .where(_slot(service_id, day, session))
        .values(taken=booking_slots.c.taken - count)
    )


async def usage(conn: AsyncConnection, service_id: str, day: date) -> dict[str, tuple[int, int]]:
    """Session -> (capacity, taken) for the sessions of a day that have been opened."""
    rows = await conn.execute(
        sa.select(booking_slots.c.session, booking_slots.c.capacity, booking_slots.c.taken).where(
            booking_slots.c.service_id == service_id, booking_slots.c.day == day
        )
    )
    return {str(r.session): (int(r.capacity), int(r.taken)) for r in rows}


async def usage_between(
    conn: AsyncConnection, service_id: str, first: date, last: date
) -> dict[tuple[date, str], tuple[int, int]]:
    """(day, session) -> (capacity, taken) over a range of days, in one query."""
    rows = await conn.execute(
        sa.select(booking_slots).where(
            booking_slots.c.service_id == service_id,
            booking_slots.c.day >= first,
            booking_slots.c.day <= last,
        )
    )
    return {(r.day, str(r.session)): (int(r.capacity), int(r.taken)) for r in rows}


async def next_queue_number(db: Database, conn: AsyncConnection, service_id: str, day: date) -> int:
    """The next queue number of a service's day, starting at 1, never given twice."""
    return await next_in_sequence(db, conn, queue_counters, service_id=service_id, day=day)


# --- bookings ------------------------------------------------------------------------------


async def insert_booking(
    conn: AsyncConnection,
    *,
    code: str,
    contact_id: int,
    conversation_id: int | None,
    service_id: str,
    day: date,
    session: str,
    queue_number: int,
    queue_label: str,
    counter: str,
    channel: str,
    at: datetime,
    applicant_name: str | None = None,
    applicant_nik: str | None = None,
) -> BookingRecord:
    """Insert a ``booked`` row; IntegrityError when the contact already holds that day.

    ``applicant_nik`` is ciphertext made by the caller (hub.security.vault)."""
    row = (
        await conn.execute(
            sa.insert(bookings)
            .values(
                code=code,
                contact_id=contact_id,
                conversation_id=conversation_id,
                service_id=service_id,
                day=day,
                session=session,
                queue_number=queue_number,
                queue_label=queue_label,
                counter=counter,
                status=BookingStatus.BOOKED.value,
                channel=channel,
                created_at=at,
                updated_at=at,
                applicant_name=applicant_name,
                applicant_nik=applicant_nik,
            )
            .returning(*bookings.c)
        )
    ).one()
    return _record(row)


async def by_code(
    conn: AsyncConnection, code: str, *, for_update: bool = False
) -> BookingRecord | None:
    """The booking with this code; ``for_update`` locks its row until the transaction ends."""
    query = sa.select(bookings).where(bookings.c.code == code)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def active_for(
    conn: AsyncConnection, contact_id: int, service_id: str, day: date
) -> BookingRecord | None:
    row = (
        await conn.execute(
            sa.select(bookings).where(
                bookings.c.contact_id == contact_id,
                bookings.c.service_id == service_id,
                bookings.c.day == day,
                bookings.c.status.in_([s.value for s in ACTIVE]),
            )
        )
    ).one_or_none()
    return None if row is None else _record(row)


async def for_contact(
    conn: AsyncConnection, contact_id: int, *, active_only: bool = True, since: date | None = None
) -> list[BookingRecord]:
    """A contact's bookings, soonest first; ``since`` drops days before it."""
    query = sa.select(bookings).where(bookings.c.contact_id == contact_id)
    if active_only:
        query = query.where(bookings.c.status.in_([s.value for s in ACTIVE]))
    if since is not None:
        query = query.where(bookings.c.day >= since)
    rows = await conn.execute(query.order_by(bookings.c.day, bookings.c.queue_number))
    return [_record(r) for r in rows]


async def on_day(
    conn: AsyncConnection, day: date, service_id: str | None = None
) -> list[BookingRecord]:
    """A day's bookings in queue order, per service: the counter's list."""
    query = sa.select(bookings).where(bookings.c.day == day)
    if service_id is not None:
        query = query.where(bookings.c.service_id == service_id)
    rows = await conn.execute(query.order_by(bookings.c.service_id, bookings.c.queue_number))
    return [_record(r) for r in rows]


async def booked_between(conn: AsyncConnection, first: date, last: date) -> list[BookingRecord]:
    """Bookings still ``booked`` for a day in [first, last]: those a reminder may be due for."""
    rows = await conn.execute(
        sa.select(bookings)
        .where(
            bookings.c.status == BookingStatus.BOOKED.value,
            bookings.c.day >= first,
            bookings.c.day <= last,
        )
        .order_by(bookings.c.day, bookings.c.id)
    )
    return [_record(r) for r in rows]


async def days_with_booked_before(conn: AsyncConnection, day: date) -> list[date]:
    """Past days that still hold ``booked`` bookings: the end of those days was missed."""
    rows = await conn.execute(
        sa.select(bookings.c.day)
        .where(bookings.c.status == BookingStatus.BOOKED.value, bookings.c.day < day)
        .distinct()
        .order_by(bookings.c.day)
    )
    return [r.day for r in rows]


async def change_status(
    conn: AsyncConnection,
    booking_id: int,
    *,
    allowed_from: tuple[BookingStatus, ...],
    to: BookingStatus,
    at: datetime,
) -> bool:
    """Move a booking to ``to`` if it is still in one of ``allowed_from``; True if it moved."""
    values: dict[str, Any] = {"status": to.value, "updated_at": at}
    if to is BookingStatus.CANCELLED:
        values["cancelled_at"] = at
    if to is BookingStatus.CHECKED_IN:
        values["checked_in_at"] = at
    result = await conn.execute(
        sa.update(bookings)
        .where(bookings.c.id == booking_id, bookings.c.status.in_([s.value for s in allowed_from]))
        .values(**values)
    )
    return bool(result.rowcount == 1)


async def move(
    conn: AsyncConnection,
    booking: BookingRecord,
    *,
    day: date,
    session: str,
    queue_number: int,
    queue_label: str,
    at: datetime,
) -> bool:
    """Move a still-booked booking to another day or session; False if it changed meanwhile.

    IntegrityError when the contact already holds an active booking on the new day.
    """
    result = await conn.execute(
        sa.update(bookings)
        .where(
            bookings.c.id == booking.id,
            bookings.c.status == BookingStatus.BOOKED.value,
            bookings.c.day == booking.day,
            bookings.c.session == booking.session,
        )
        .values(
            day=day,
            session=session,
            queue_number=queue_number,
            queue_label=queue_label,
            updated_at=at,
        )
    )
    return bool(result.rowcount == 1)


async def mark_no_shows(conn: AsyncConnection, day: date, at: datetime) -> list[tuple[str, str]]:
    """Every still-``booked`` booking of ``day`` becomes ``no_show``; their (service, session)."""
    rows = await conn.execute(
        sa.update(bookings)
        .where(bookings.c.day == day, bookings.c.status == BookingStatus.BOOKED.value)
        .values(status=BookingStatus.NO_SHOW.value, updated_at=at)
        .returning(bookings.c.service_id, bookings.c.session)
    )
    return [(str(r.service_id), str(r.session)) for r in rows]

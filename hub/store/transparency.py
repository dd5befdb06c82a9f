"""What the public transparency page counts: four grouped queries, aggregates only.

Each query groups in SQL and returns counts, never a ticket, a message or a name:
one over tickets (with their history), one over bookings, one over conversations and
one over inbound messages. Every row says whether it falls in the last 30 days and
whether in this year, so both periods come from the same query.

Days are WITA calendar days: timestamps are stored in UTC and shifted by the zone's
offset (fixed at UTC+8 for WITA, which has no daylight saving) before the date,
weekday or hour is taken, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.tables import bookings, conversations, messages, ticket_events, tickets


@dataclass(frozen=True, slots=True)
class Window:
    """The two periods, in WITA days: both end today; the earlier start bounds every query."""

    recent_first: date
    """The first of the last 30 days."""
    year_first: date
    """1 January of this year."""
    today: date
    """The WITA day of "now": bookings of later days are not counted yet."""
    offset_hours: int
    """The zone's offset from UTC, to turn stored UTC times into WITA days and hours."""

    def _start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), timezone(timedelta(hours=self.offset_hours)))

    @property
    def recent_since(self) -> datetime:
        return self._start(self.recent_first)

    @property
    def year_since(self) -> datetime:
        return self._start(self.year_first)

    @property
    def since(self) -> datetime:
        return self._start(min(self.recent_first, self.year_first))


@dataclass(frozen=True, slots=True)
class TicketGroup:
    """Tickets alike in everything the page asks of them."""

    agency: str | None
    kind: str
    recent: bool
    this_year: bool
    received_day: date
    checked_day: date | None
    """The WITA day the ticket first left ``received`` (verified or rejected); None if not yet."""
    resolved_day: date | None
    """The WITA day it was resolved; None if it is not (or was reopened)."""
    late: bool
    """A deadline of some stage was missed (an ``sla_breach`` in its history)."""
    tickets: int
    rating_sum: int
    ratings: int


@dataclass(frozen=True, slots=True)
class BookingGroup:
    service_id: str
    status: str
    recent: bool
    this_year: bool
    bookings: int


@dataclass(frozen=True, slots=True)
class ChannelGroup:
    channel: str
    recent: bool
    this_year: bool
    conversations: int


@dataclass(frozen=True, slots=True)
class HourGroup:
    weekday: int
    """Monday = 0, as ``date.weekday()``."""
    hour: int
    recent: bool
    this_year: bool
    messages: int


def _postgres(conn: AsyncConnection) -> bool:
    return conn.dialect.name == "postgresql"


def _shifted(column: Any, offset_hours: int) -> Any:
    """``column`` (UTC) as WITA wall-clock time, still a timestamp (PostgreSQL only)."""
    return column + sa.text(f"INTERVAL '{int(offset_hours)} hours'")


def _local_day(conn: AsyncConnection, column: Any, offset_hours: int) -> Any:
    if _postgres(conn):
        return sa.cast(_shifted(column, offset_hours), sa.Date)
    return sa.func.date(column, f"{int(offset_hours):+d} hours")


def _local_weekday(conn: AsyncConnection, column: Any, offset_hours: int) -> Any:
    """0 = Monday on both backends (SQLite's %w and PostgreSQL's isodow differ)."""
    if _postgres(conn):
        return sa.cast(sa.extract("isodow", _shifted(column, offset_hours)), sa.Integer) - 1
    sunday_first = sa.cast(
        sa.func.strftime("%w", column, f"{int(offset_hours):+d} hours"), sa.Integer
    )
    return (sunday_first + 6) % 7


def _local_hour(conn: AsyncConnection, column: Any, offset_hours: int) -> Any:
    if _postgres(conn):
        return sa.cast(sa.extract("hour", _shifted(column, offset_hours)), sa.Integer)
    return sa.cast(sa.func.strftime("%H", column, f"{int(offset_hours):+d} hours"), sa.Integer)


def _flag(condition: Any, name: str) -> Any:
    return sa.case((condition, 1), else_=0).label(name)


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def ticket_groups(conn: AsyncConnection, window: Window) -> list[TicketGroup]:
    """Tickets received since ``window.since``, grouped by agency, kind, period and days."""
    hours = window.offset_hours
    checked_at = (
        sa.select(sa.func.min(ticket_events.c.at))
        .where(
            ticket_events.c.ticket_pk == tickets.c.id,
            ticket_events.c.kind == "status",
            ticket_events.c.from_status == "received",
        )
        .scalar_subquery()
    )
    breached = (
        sa.select(ticket_events.c.id)
        .where(ticket_events.c.ticket_pk == tickets.c.id, ticket_events.c.kind == "sla_breach")
        .exists()
    )
    each = (
        sa.select(
            tickets.c.agency,
            tickets.c.kind,
            tickets.c.rating,
            _flag(tickets.c.created_at >= window.recent_since, "recent"),
            _flag(tickets.c.created_at >= window.year_since, "this_year"),
            _local_day(conn, tickets.c.created_at, hours).label("received_day"),
            _local_day(conn, checked_at, hours).label("checked_day"),
            _local_day(conn, tickets.c.resolved_at, hours).label("resolved_day"),
            _flag(breached, "late"),
        )
        .where(tickets.c.created_at >= window.since)
        .subquery()
    )
    keys = [
        each.c.agency,
        each.c.kind,
        each.c.recent,
        each.c.this_year,
        each.c.received_day,
        each.c.checked_day,
        each.c.resolved_day,
        each.c.late,
    ]
    rows = await conn.execute(
        sa.select(
            *keys,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(each.c.rating), 0),
            sa.func.count(each.c.rating),
        ).group_by(*keys)
    )
    groups: list[TicketGroup] = []
    for row in rows:
        received = _as_date(row[4])
        assert received is not None
        groups.append(
            TicketGroup(
                agency=row[0],
                kind=str(row[1]),
                recent=bool(row[2]),
                this_year=bool(row[3]),
                received_day=received,
                checked_day=_as_date(row[5]),
                resolved_day=_as_date(row[6]),
                late=bool(row[7]),
                tickets=int(row[8]),
                rating_sum=int(row[9]),
                ratings=int(row[10]),
            )
        )
    return groups


async def booking_groups(conn: AsyncConnection, window: Window) -> list[BookingGroup]:
    """Bookings not cancelled for visits from the window's start to today, by service and
    status (``ix_bookings_day_service``)."""
    recent = _flag(bookings.c.day >= window.recent_first, "recent")
    this_year = _flag(bookings.c.day >= window.year_first, "this_year")
    rows = await conn.execute(
        sa.select(bookings.c.service_id, bookings.c.status, recent, this_year, sa.func.count())
        .where(
            bookings.c.day >= min(window.recent_first, window.year_first),
            bookings.c.day <= window.today,
            bookings.c.status != "cancelled",
        )
        .group_by(bookings.c.service_id, bookings.c.status, recent, this_year)
    )
    return [BookingGroup(str(r[0]), str(r[1]), bool(r[2]), bool(r[3]), int(r[4])) for r in rows]


async def channel_groups(conn: AsyncConnection, window: Window) -> list[ChannelGroup]:
    """Conversations begun since the window's start, by channel."""
    recent = _flag(conversations.c.created_at >= window.recent_since, "recent")
    this_year = _flag(conversations.c.created_at >= window.year_since, "this_year")
    rows = await conn.execute(
        sa.select(conversations.c.channel, recent, this_year, sa.func.count())
        .where(conversations.c.created_at >= window.since)
        .group_by(conversations.c.channel, recent, this_year)
    )
    return [ChannelGroup(str(r[0]), bool(r[1]), bool(r[2]), int(r[3])) for r in rows]


async def hour_groups(conn: AsyncConnection, window: Window) -> list[HourGroup]:
    """Messages from citizens since the window's start, by WITA weekday and hour."""
    hours = window.offset_hours
    weekday = _local_weekday(conn, messages.c.created_at, hours).label("weekday")
    hour = _local_hour(conn, messages.c.created_at, hours).label("hour")
    recent = _flag(messages.c.created_at >= window.recent_since, "recent")
    this_year = _flag(messages.c.created_at >= window.year_since, "this_year")
    rows = await conn.execute(
        sa.select(weekday, hour, recent, this_year, sa.func.count())
        .where(messages.c.direction == "inbound", messages.c.created_at >= window.since)
        .group_by(weekday, hour, recent, this_year)
    )
    return [HourGroup(int(r[0]), int(r[1]), bool(r[2]), bool(r[3]), int(r[4])) for r in rows]

"""Figures for the console's dashboard, each one grouped query.

Days are WITA calendar days: timestamps are stored in UTC, so they are shifted by
the zone's offset (fixed at UTC+8 for WITA, which has no daylight saving) before the
date is taken, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.tables import bookings, messages, ticket_events, tickets

OPEN_TICKET_STATUSES = ("received", "verified", "forwarded", "in_progress", "resolved")


def _local_day(conn: AsyncConnection, column: Any, offset_hours: int) -> Any:
    if conn.dialect.name == "postgresql":
        shifted = column + sa.text(f"INTERVAL '{int(offset_hours)} hours'")
        return sa.cast(shifted, sa.Date)
    return sa.func.date(column, f"{int(offset_hours):+d} hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def messages_per_channel_per_day(
    conn: AsyncConnection, since: datetime, offset_hours: int = 8
) -> list[tuple[date, str, int]]:
    """(WITA day, channel, inbound messages) since ``since``."""
    day = _local_day(conn, messages.c.created_at, offset_hours).label("day")
    rows = await conn.execute(
        sa.select(day, messages.c.channel, sa.func.count())
        .where(messages.c.direction == "inbound", messages.c.created_at >= since)
        .group_by(day, messages.c.channel)
        .order_by(day, messages.c.channel)
    )
    return [(_as_date(r[0]), str(r[1]), int(r[2])) for r in rows]


async def bookings_per_service(
    conn: AsyncConnection, first: date, last: date
) -> list[tuple[str, int]]:
    """(service id, bookings not cancelled) for visits between ``first`` and ``last``."""
    rows = await conn.execute(
        sa.select(bookings.c.service_id, sa.func.count())
        .where(bookings.c.day >= first, bookings.c.day <= last, bookings.c.status != "cancelled")
        .group_by(bookings.c.service_id)
        .order_by(sa.func.count().desc(), bookings.c.service_id)
    )
    return [(str(r[0]), int(r[1])) for r in rows]


async def open_tickets_by_status_and_agency(
    conn: AsyncConnection, agencies: Sequence[str] | None = None
) -> list[tuple[str, str, int]]:
    query = (
        sa.select(tickets.c.status, tickets.c.agency, sa.func.count())
        .where(tickets.c.status.in_(OPEN_TICKET_STATUSES))
        .group_by(tickets.c.status, tickets.c.agency)
    )
    if agencies is not None:
        query = query.where(tickets.c.agency.in_(list(agencies)))
    return [(str(r[0]), str(r[1] or ""), int(r[2])) for r in await conn.execute(query)]


async def sla_breaches(
    conn: AsyncConnection, since: datetime, agencies: Sequence[str] | None = None
) -> tuple[int, int]:
    """(tickets open with a breached deadline now, breaches recorded since ``since``)."""
    open_query = sa.select(sa.func.count()).where(
        tickets.c.sla_breached_at.is_not(None), tickets.c.status.in_(OPEN_TICKET_STATUSES)
    )
    recent_query = (
        sa.select(sa.func.count())
        .select_from(ticket_events.join(tickets, tickets.c.id == ticket_events.c.ticket_pk))
        .where(ticket_events.c.kind == "sla_breach", ticket_events.c.at >= since)
    )
    if agencies is not None:
        open_query = open_query.where(tickets.c.agency.in_(list(agencies)))
        recent_query = recent_query.where(tickets.c.agency.in_(list(agencies)))
    return int(await conn.scalar(open_query) or 0), int(await conn.scalar(recent_query) or 0)


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday around ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)

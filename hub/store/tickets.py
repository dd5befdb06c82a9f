"""CARE tickets, their history and attachments.

Free texts (description, incident, notes, rating comment, captions) are masked
(:mod:`hub.pii`) before they are written, whoever calls; the reporter's NIK has its
own field, ``reporter_nik``, which holds ciphertext only (:mod:`hub.security.vault`).

Status changes are conditional UPDATEs (``WHERE status = <the status read>``), so
two officers moving one ticket at once cannot both succeed; the day's ticket numbers
come from one upsert, like the queue numbers, so they are never given twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import pii
from hub.store.counters import next_in_sequence
from hub.store.database import Database
from hub.store.tables import ticket_attachments, ticket_counters, ticket_events, tickets


@dataclass(frozen=True, slots=True)
class TicketRecord:
    pk: int
    ticket_id: str
    kind: str
    status: str
    category: str
    service_id: str | None
    agency: str | None
    description: str
    incident_when: str
    incident_where: str
    anonymous: bool
    confidential: bool
    contact_id: int
    conversation_id: int | None
    channel: str
    assigned_to: int | None
    created_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None
    sla_breached_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    rated_at: datetime | None
    needs_supervisor: bool
    reporter_nik: str | None = None
    """The reporter's NIK as ciphertext (hub.security.vault), never in clear;
    None when not given."""
    priority: str = "normal"
    """``high`` for bribery reports (shorter deadlines), else ``normal``."""
    object: str | None = None
    """What a complaint is about: facility, counter, officer or service (hub.care.classify)."""


FREE_TEXT = ("category", "description", "incident_when", "incident_where", "rating_comment")
"""The columns a citizen or officer writes in their own words: masked before storing."""


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: pii.mask(value) if key in FREE_TEXT and isinstance(value, str) else value
        for key, value in values.items()
    }


@dataclass(frozen=True, slots=True)
class EventRecord:
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    note: str


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    content_type: str
    url: str
    filename: str
    caption: str
    size: int | None


def _record(row: Any) -> TicketRecord:
    return TicketRecord(
        pk=int(row.id),
        ticket_id=str(row.ticket_id),
        kind=str(row.kind),
        status=str(row.status),
        category=str(row.category),
        service_id=row.service_id,
        agency=row.agency,
        description=str(row.description),
        incident_when=str(row.incident_when),
        incident_where=str(row.incident_where),
        anonymous=bool(row.anonymous),
        confidential=bool(row.confidential),
        contact_id=int(row.contact_id),
        conversation_id=row.conversation_id,
        channel=str(row.channel),
        assigned_to=row.assigned_to,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sla_due_at=row.sla_due_at,
        sla_breached_at=row.sla_breached_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        rating=row.rating,
        rating_comment=row.rating_comment,
        rated_at=row.rated_at,
        needs_supervisor=bool(row.needs_supervisor),
        reporter_nik=row.reporter_nik,
        priority=str(row.priority),
        object=row.object,
    )


async def next_number(db: Database, conn: AsyncConnection, day: date) -> int:
    """The next ticket number of a WITA day, from 1; never given twice."""
    return await next_in_sequence(db, conn, ticket_counters, day=day)


async def insert(conn: AsyncConnection, **values: Any) -> TicketRecord:
    row = (
        await conn.execute(sa.insert(tickets).values(**_masked(values)).returning(tickets))
    ).one()
    return _record(row)


async def add_event(
    conn: AsyncConnection,
    ticket_pk: int,
    *,
    at: datetime,
    actor: str,
    kind: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
) -> None:
    await conn.execute(
        sa.insert(ticket_events).values(
            ticket_pk=ticket_pk,
            at=at,
            actor=actor,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=pii.mask(note),
        )
    )


async def add_attachments(
    conn: AsyncConnection, ticket_pk: int, attachments: Sequence[dict[str, Any]], at: datetime
) -> None:
    if not attachments:
        return
    await conn.execute(
        sa.insert(ticket_attachments),
        [
            {
                "ticket_pk": ticket_pk,
                "content_type": str(a.get("content_type") or "application/octet-stream")[:100],
                "url": str(a.get("url", ""))[:1000],
                "filename": pii.mask(str(a.get("filename", "")))[:255],
                "caption": pii.mask(str(a.get("caption", "")))[:1000],
                "size": a.get("size"),
                "created_at": at,
            }
            for a in attachments
        ],
    )


async def by_ticket_id(
    conn: AsyncConnection, ticket_id: str, *, for_update: bool = False
) -> TicketRecord | None:
    query = sa.select(tickets).where(tickets.c.ticket_id == ticket_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    return None if row is None else _record(row)


async def for_contact(
    conn: AsyncConnection, contact_id: int, limit: int = 20
) -> list[TicketRecord]:
    rows = await conn.execute(
        sa.select(tickets)
        .where(tickets.c.contact_id == contact_id)
        .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
        .limit(limit)
    )
    return [_record(r) for r in rows]


async def search(
    conn: AsyncConnection,
    *,
    statuses: Sequence[str] = (),
    kind: str | None = None,
    agencies: Sequence[str] | None = None,
    breached: bool | None = None,
    needs_supervisor: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TicketRecord]:
    """Tickets newest first; ``agencies`` None means any agency, [] means none."""
    query = sa.select(tickets)
    if statuses:
        query = query.where(tickets.c.status.in_(list(statuses)))
    if kind:
        query = query.where(tickets.c.kind == kind)
    if agencies is not None:
        query = query.where(tickets.c.agency.in_(list(agencies)))
    if breached is not None:
        query = query.where(
            tickets.c.sla_breached_at.is_not(None)
            if breached
            else tickets.c.sla_breached_at.is_(None)
        )
    if needs_supervisor is not None:
        query = query.where(tickets.c.needs_supervisor == needs_supervisor)
    rows = await conn.execute(
        query.order_by(tickets.c.created_at.desc(), tickets.c.id.desc()).limit(limit).offset(offset)
    )
    return [_record(r) for r in rows]


async def events(conn: AsyncConnection, ticket_pk: int) -> list[EventRecord]:
    rows = await conn.execute(
        sa.select(ticket_events)
        .where(ticket_events.c.ticket_pk == ticket_pk)
        .order_by(ticket_events.c.at, ticket_events.c.id)
    )
    return [
        EventRecord(
            at=r.at,
            actor=str(r.actor),
            kind=str(r.kind),
            from_status=r.from_status,
            to_status=r.to_status,
            note=str(r.note),
        )
        for r in rows
    ]


async def attachments(conn: AsyncConnection, ticket_pk: int) -> list[AttachmentRecord]:
    rows = await conn.execute(
        sa.select(ticket_attachments)
        .where(ticket_attachments.c.ticket_pk == ticket_pk)
        .order_by(ticket_attachments.c.id)
    )
    return [
        AttachmentRecord(
            content_type=str(r.content_type),
            url=str(r.url),
            filename=str(r.filename),
            caption=str(r.caption),
            size=r.size,
        )
        for r in rows
    ]


async def update_if(
    conn: AsyncConnection, pk: int, *, expected_status: str, values: dict[str, Any]
) -> bool:
    """Change a ticket only if it is still in ``expected_status``; True if it changed."""
    result = await conn.execute(
        sa.update(tickets)
        .where(tickets.c.id == pk, tickets.c.status == expected_status)
        .values(**_masked(values))
    )
    return bool(result.rowcount == 1)


async def mark_breaches(
    conn: AsyncConnection, now: datetime, statuses: Sequence[str]
) -> list[TicketRecord]:
    """Tickets whose current deadline has passed, each marked (and returned) once."""
    rows = await conn.execute(
        sa.update(tickets)
        .where(
            tickets.c.status.in_(list(statuses)),
            tickets.c.sla_due_at < now,
            tickets.c.sla_breached_at.is_(None),
        )
        .values(sla_breached_at=now, needs_supervisor=True, updated_at=now)
        .returning(tickets)
    )
    return [_record(r) for r in rows]


async def overdue(conn: AsyncConnection, now: datetime, status: str) -> list[TicketRecord]:
    rows = await conn.execute(
        sa.select(tickets).where(tickets.c.status == status, tickets.c.sla_due_at < now)
    )
    return [_record(r) for r in rows]


async def rating_summary(
    conn: AsyncConnection, agencies: Sequence[str] | None = None
) -> tuple[float | None, int]:
    """The average rating and how many tickets were rated."""
    query = sa.select(sa.func.avg(tickets.c.rating), sa.func.count(tickets.c.rating))
    if agencies is not None:
        query = query.where(tickets.c.agency.in_(list(agencies)))
    average, count = (await conn.execute(query)).one()
    return (None if average is None else float(average)), int(count)

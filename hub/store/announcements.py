"""Announcements and their deliveries: one row per recipient, drawn when sending starts.

Every change of an announcement's status is a conditional UPDATE from the status it
must have, so two processes (or a double click) cannot approve, start or finish one
twice. A delivery is handed to the outbox by moving it from ``queued`` to ``handed``
in the same transaction that writes the outbound message, so a restart resumes with
what is still queued and nobody gets the same announcement twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import pii
from hub.store.database import Database
from hub.store.tables import (
    announcement_deliveries,
    announcements,
    bookings,
    consent_records,
    contacts,
    conversations,
    messages,
    outbox,
    subscriptions,
)

DRAFT, SCHEDULED, SENDING, PAUSED, SENT, CANCELLED = (
    "draft",
    "scheduled",
    "sending",
    "paused",
    "sent",
    "cancelled",
)
QUEUED, HANDED, SKIPPED = "queued", "handed", "skipped"
"""Delivery states; a delivery of a cancelled announcement becomes ``cancelled`` too."""


@dataclass(frozen=True, slots=True)
class AnnouncementRecord:
    id: int
    status: str
    topics: tuple[str, ...]
    audience: dict[str, str] | None
    title: str
    text_id: str
    text_en: str
    send_at: datetime | None
    created_by: str
    approved_by: str | None
    created_at: datetime
    approved_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recipients: int | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    announcement_id: int
    contact_id: int
    channel: str
    address: str
    booking_code: str | None
    locale: str | None = None
    """The contact's remembered language, if any."""
    subscribed: bool = True
    """Whether the contact still holds a topic of the announcement (targeted: always)."""


def _record(row: sa.Row[Any]) -> AnnouncementRecord:
    return AnnouncementRecord(
        id=int(row.id),
        status=str(row.status),
        topics=tuple(row.topics or ()),
        audience=dict(row.audience) if row.audience else None,
        title=str(row.title),
        text_id=str(row.text_id),
        text_en=str(row.text_en),
        send_at=row.send_at,
        created_by=str(row.created_by),
        approved_by=row.approved_by,
        created_at=row.created_at,
        approved_at=row.approved_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        recipients=row.recipients,
    )


async def insert(
    conn: AsyncConnection,
    *,
    topics: Sequence[str],
    audience: dict[str, str] | None,
    title: str,
    text_id: str,
    text_en: str,
    send_at: datetime | None,
    created_by: str,
    at: datetime,
) -> int:
    """A new draft; the texts are masked like every stored text (hub.pii)."""
    new_id = await conn.scalar(
        sa.insert(announcements)
        .values(
            status=DRAFT,
            topics=list(topics),
            audience=audience,
            title=pii.mask(title)[:200],
            text_id=pii.mask(text_id),
            text_en=pii.mask(text_en),
            send_at=send_at,
            created_by=created_by,
            created_at=at,
            updated_at=at,
        )
        .returning(announcements.c.id)
    )
    return int(new_id or 0)


async def get(conn: AsyncConnection, announcement_id: int) -> AnnouncementRecord | None:
    row = (
        await conn.execute(sa.select(announcements).where(announcements.c.id == announcement_id))
    ).first()
    return _record(row) if row is not None else None


async def recent(conn: AsyncConnection, limit: int = 50) -> list[AnnouncementRecord]:
    rows = await conn.execute(
        sa.select(announcements).order_by(announcements.c.id.desc()).limit(limit)
    )
    return [_record(r) for r in rows]


async def with_status(conn: AsyncConnection, status: str) -> list[AnnouncementRecord]:
    rows = await conn.execute(
        sa.select(announcements)
        .where(announcements.c.status == status)
        .order_by(announcements.c.id)
    )
    return [_record(r) for r in rows]


async def move(
    conn: AsyncConnection,
    announcement_id: int,
    from_status: Sequence[str],
    to_status: str,
    at: datetime,
    **values: Any,
) -> bool:
    """Change the status only if it is one of ``from_status``; False when it was not."""
    result = await conn.execute(
        sa.update(announcements)
        .where(announcements.c.id == announcement_id, announcements.c.status.in_(from_status))
        .values(status=to_status, updated_at=at, **values)
    )
    return result.rowcount == 1


async def due_scheduled(conn: AsyncConnection, now: datetime) -> list[int]:
    rows = await conn.execute(
        sa.select(announcements.c.id).where(
            announcements.c.status == SCHEDULED, announcements.c.send_at <= now
        )
    )
    return [int(r.id) for r in rows]


async def update_draft(
    conn: AsyncConnection, announcement_id: int, at: datetime, **values: Any
) -> bool:
    for key in ("title", "text_id", "text_en"):
        if key in values:
            values[key] = pii.mask(str(values[key]))
    result = await conn.execute(
        sa.update(announcements)
        .where(announcements.c.id == announcement_id, announcements.c.status == DRAFT)
        .values(updated_at=at, **values)
    )
    return result.rowcount == 1


# --- the audience ----------------------------------------------------------------------------


def _open_conversation(contact_id: Any) -> sa.ScalarSelect[Any]:
    """The contact's latest open conversation (the channel the citizen uses now)."""
    return (
        sa.select(conversations.c.id)
        .where(conversations.c.contact_id == contact_id, conversations.c.status != "closed")
        .order_by(conversations.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def subscriber_routes(topics: Sequence[str]) -> sa.Subquery:
    """Each contact subscribed to any of ``topics`` once (contact_id, channel, address,
    locale, booking_code): on the channel of their open conversation, else where they
    subscribed. The one routing rule of the drawn audience and of the console's preview."""
    first = (
        sa.select(subscriptions.c.contact_id, sa.func.min(subscriptions.c.id).label("sub_id"))
        .where(subscriptions.c.topic.in_(list(topics)))
        .group_by(subscriptions.c.contact_id)
        .subquery()
    )
    open_conv = conversations.alias("open_conv")
    return (
        sa.select(
            first.c.contact_id,
            sa.func.coalesce(open_conv.c.channel, subscriptions.c.channel).label("channel"),
            sa.func.coalesce(open_conv.c.address, subscriptions.c.address).label("address"),
            sa.func.coalesce(open_conv.c.locale, contacts.c.locale).label("locale"),
            sa.null().label("booking_code"),
        )
        .select_from(first)
        .join(subscriptions, subscriptions.c.id == first.c.sub_id)
        .join(contacts, contacts.c.id == first.c.contact_id)
        .outerjoin(open_conv, open_conv.c.id == _open_conversation(first.c.contact_id))
        .subquery()
    )


def booked_routes(service_ids: Sequence[str], day: date) -> sa.Subquery:
    """Each contact with an active booking of ``service_ids`` on ``day`` once (whether
    subscribed or not: it concerns their booking), on the booking's conversation, with
    that booking's code; same columns as :func:`subscriber_routes`."""
    first = (
        sa.select(bookings.c.contact_id, sa.func.min(bookings.c.id).label("booking_id"))
        .where(
            bookings.c.day == day,
            bookings.c.service_id.in_(list(service_ids)),
            bookings.c.status == "booked",
            bookings.c.conversation_id.is_not(None),
        )
        .group_by(bookings.c.contact_id)
        .subquery()
    )
    return (
        sa.select(
            first.c.contact_id,
            conversations.c.channel,
            conversations.c.address,
            conversations.c.locale,
            bookings.c.code.label("booking_code"),
        )
        .select_from(first)
        .join(bookings, bookings.c.id == first.c.booking_id)
        .join(conversations, conversations.c.id == bookings.c.conversation_id)
        .subquery()
    )


async def draw(
    db: Database,
    conn: AsyncConnection,
    announcement_id: int,
    routes: sa.Subquery,
    at: datetime,
) -> int:
    """One queued delivery per row of ``routes``; returns how many were written."""
    source = sa.select(
        sa.literal(announcement_id).label("announcement_id"),
        routes.c.contact_id,
        routes.c.channel,
        routes.c.address,
        routes.c.booking_code,
        sa.literal(QUEUED).label("status"),
        sa.literal(at, type_=announcement_deliveries.c.updated_at.type).label("updated_at"),
        # SQLite reads "ON CONFLICT" after a bare FROM as a join's ON: a WHERE ends it.
    ).where(sa.true())
    return await _insert_from(db, conn, source)


async def _insert_from(db: Database, conn: AsyncConnection, source: sa.Select[Any]) -> int:
    names = [c.name for c in source.selected_columns]
    result = await conn.execute(
        db.insert(announcement_deliveries)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=["announcement_id", "contact_id"])
    )
    return max(0, int(result.rowcount or 0))


# --- handing over ----------------------------------------------------------------------------


async def queued_batch(
    conn: AsyncConnection,
    announcement_id: int,
    channel: str,
    limit: int,
    topics: Sequence[str] = (),
) -> list[DeliveryRecord]:
    """Up to ``limit`` queued deliveries of one channel, each with the contact's locale
    and, for a topic announcement, whether they still hold one of ``topics``; locked
    against other processes on PostgreSQL (SQLite has one writer)."""
    subscribed: sa.ColumnElement[bool] = (
        sa.exists().where(
            subscriptions.c.contact_id == announcement_deliveries.c.contact_id,
            subscriptions.c.topic.in_(list(topics)),
        )
        if topics
        else sa.true()
    )
    rows = await conn.execute(
        sa.select(
            announcement_deliveries,
            contacts.c.locale,
            subscribed.label("subscribed"),
        )
        .join(contacts, contacts.c.id == announcement_deliveries.c.contact_id)
        .where(
            announcement_deliveries.c.announcement_id == announcement_id,
            announcement_deliveries.c.status == QUEUED,
            announcement_deliveries.c.channel == channel,
        )
        .order_by(announcement_deliveries.c.id)
        .limit(limit)
        .with_for_update(of=announcement_deliveries, skip_locked=True)
    )
    return [
        DeliveryRecord(
            id=int(r.id),
            announcement_id=int(r.announcement_id),
            contact_id=int(r.contact_id),
            channel=str(r.channel),
            address=str(r.address),
            booking_code=r.booking_code,
            locale=r.locale,
            subscribed=bool(r.subscribed),
        )
        for r in rows
    ]


async def queued_channels(conn: AsyncConnection, announcement_id: int) -> list[str]:
    rows = await conn.execute(
        sa.select(announcement_deliveries.c.channel)
        .where(
            announcement_deliveries.c.announcement_id == announcement_id,
            announcement_deliveries.c.status == QUEUED,
        )
        .distinct()
    )
    return sorted(str(r.channel) for r in rows)


async def finish_delivery(
    conn: AsyncConnection, delivery_id: int, status: str, at: datetime, message_id: int | None
) -> bool:
    """Move a queued delivery on; False if another process already did."""
    result = await conn.execute(
        sa.update(announcement_deliveries)
        .where(
            announcement_deliveries.c.id == delivery_id,
            announcement_deliveries.c.status == QUEUED,
        )
        .values(status=status, message_id=message_id, updated_at=at)
    )
    return result.rowcount == 1


async def set_message(conn: AsyncConnection, delivery_id: int, message_id: int) -> None:
    await conn.execute(
        sa.update(announcement_deliveries)
        .where(announcement_deliveries.c.id == delivery_id)
        .values(message_id=message_id)
    )


async def bulk_waiting(conn: AsyncConnection, channel: str) -> int:
    """Announcement rows of ``channel`` still waiting in the outbox."""
    value = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(outbox)
        .where(
            outbox.c.lane == 1,
            outbox.c.channel == channel,
            outbox.c.status.in_(("pending", "sending")),
        )
    )
    return int(value or 0)


async def unsent(conn: AsyncConnection, announcement_id: int) -> int:
    """Recipients of the announcement whose message has not left yet (queued, or in the
    outbox still pending or being sent)."""
    queued = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(announcement_deliveries)
        .where(
            announcement_deliveries.c.announcement_id == announcement_id,
            announcement_deliveries.c.status == QUEUED,
        )
    )
    waiting = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(outbox)
        .join(announcement_deliveries, announcement_deliveries.c.message_id == outbox.c.message_id)
        .where(
            announcement_deliveries.c.announcement_id == announcement_id,
            outbox.c.status.in_(("pending", "sending")),
        )
    )
    return int(queued or 0) + int(waiting or 0)


async def cancel_remaining(conn: AsyncConnection, announcement_id: int, at: datetime) -> int:
    """Cancel what has not left yet: queued deliveries, and handed ones still pending in
    the outbox. Returns how many recipients will not get it."""
    queued = await conn.execute(
        sa.update(announcement_deliveries)
        .where(
            announcement_deliveries.c.announcement_id == announcement_id,
            announcement_deliveries.c.status == QUEUED,
        )
        .values(status=CANCELLED, updated_at=at)
    )
    handed = sa.select(announcement_deliveries.c.message_id).where(
        announcement_deliveries.c.announcement_id == announcement_id,
        announcement_deliveries.c.message_id.is_not(None),
    )
    pending = await conn.execute(
        sa.update(outbox)
        .where(outbox.c.message_id.in_(handed), outbox.c.status == "pending")
        .values(status=CANCELLED, lease_until=None, last_error="announcement cancelled")
    )
    await conn.execute(
        sa.update(messages)
        .where(messages.c.id.in_(handed), messages.c.delivery_status == "queued")
        .values(delivery_status="failed", delivery_error="announcement cancelled", updated_at=at)
    )
    return int(queued.rowcount or 0) + int(pending.rowcount or 0)


# --- progress --------------------------------------------------------------------------------


async def progress(conn: AsyncConnection, announcement_id: int) -> dict[str, int]:
    """Counts of one announcement: queued (not yet handed), sending (in the outbox),
    sent, delivered (read included), failed, skipped, cancelled, opted_out_since."""
    rows = await conn.execute(
        sa.select(
            announcement_deliveries.c.status,
            messages.c.delivery_status,
            outbox.c.status.label("outbox_status"),
            sa.func.count(),
        )
        .select_from(announcement_deliveries)
        .outerjoin(messages, messages.c.id == announcement_deliveries.c.message_id)
        .outerjoin(outbox, outbox.c.message_id == announcement_deliveries.c.message_id)
        .where(announcement_deliveries.c.announcement_id == announcement_id)
        .group_by(announcement_deliveries.c.status, messages.c.delivery_status, outbox.c.status)
    )
    counts = dict.fromkeys(
        ("queued", "sending", "sent", "delivered", "failed", "skipped", "cancelled"), 0
    )
    for status, delivery, outbox_status, count in rows:
        if status != HANDED:
            counts[status if status in counts else "queued"] += int(count)
        elif outbox_status == CANCELLED:
            counts["cancelled"] += int(count)
        elif delivery in ("delivered", "read"):
            counts["delivered"] += int(count)
        elif delivery == "failed":
            counts["failed"] += int(count)
        elif outbox_status == "sent" or delivery == "sent":
            counts["sent"] += int(count)
        else:
            counts["sending"] += int(count)
    counts["recipients"] = sum(counts.values())
    counts["opted_out_since"] = await _opted_out_since(conn, announcement_id)
    return counts


async def _opted_out_since(conn: AsyncConnection, announcement_id: int) -> int:
    """Recipients who unsubscribed (anything) after the announcement started."""
    started = (
        sa.select(announcements.c.started_at)
        .where(announcements.c.id == announcement_id)
        .scalar_subquery()
    )
    value = await conn.scalar(
        sa.select(sa.func.count(sa.distinct(consent_records.c.contact_id))).where(
            consent_records.c.action == "unsubscribe",
            consent_records.c.at >= started,
            consent_records.c.contact_id.in_(
                sa.select(announcement_deliveries.c.contact_id).where(
                    announcement_deliveries.c.announcement_id == announcement_id
                )
            ),
        )
    )
    return int(value or 0)

"""Subscriptions to announcement topics and the consent records behind them.

A subscription row exists exactly while the citizen wants the topic; every change is
also written as a consent record (when, on which channel, how, in which words), which
stays when the subscription goes, so the mall can show what a citizen agreed to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import pii
from hub.store.database import Database
from hub.store.tables import consent_records, subscriptions

SUBSCRIBE, UNSUBSCRIBE = "subscribe", "unsubscribe"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    contact_id: int
    action: str
    topic: str | None
    channel: str
    source: str
    words: str
    at: datetime


async def _record(
    conn: AsyncConnection,
    contact_id: int,
    action: str,
    topic: str | None,
    channel: str,
    source: str,
    words: str,
    at: datetime,
) -> None:
    await conn.execute(
        sa.insert(consent_records).values(
            contact_id=contact_id,
            action=action,
            topic=topic,
            channel=channel,
            source=source,
            words=pii.mask(words)[:1000],
            at=at,
        )
    )


async def subscribe(
    db: Database,
    conn: AsyncConnection,
    *,
    contact_id: int,
    topics: Iterable[str],
    channel: str,
    address: str,
    source: str,
    words: str,
    at: datetime,
) -> list[str]:
    """Subscribe to ``topics``; returns those that were new. Consent is recorded for
    every topic asked for, also one already held (the citizen said it again)."""
    added: list[str] = []
    for topic in dict.fromkeys(topics):
        inserted = await conn.scalar(
            db.insert(subscriptions)
            .values(
                contact_id=contact_id,
                topic=topic,
                channel=channel,
                address=address,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["contact_id", "topic"])
            .returning(subscriptions.c.id)
        )
        if inserted is not None:
            added.append(topic)
        else:
            # Already subscribed: the latest consent decides the route.
            await conn.execute(
                sa.update(subscriptions)
                .where(subscriptions.c.contact_id == contact_id, subscriptions.c.topic == topic)
                .values(channel=channel, address=address)
            )
        await _record(conn, contact_id, SUBSCRIBE, topic, channel, source, words, at)
    return added


async def unsubscribe(
    conn: AsyncConnection,
    *,
    contact_id: int,
    topics: Iterable[str] | None,
    channel: str,
    source: str,
    words: str,
    at: datetime,
) -> list[str]:
    """Unsubscribe from ``topics`` (None: from everything at once); returns the topics
    that were held. The consent record is written even when nothing was held."""
    held = await topics_of(conn, contact_id)
    wanted = held if topics is None else [t for t in dict.fromkeys(topics)]
    removed = [t for t in wanted if t in held]
    if removed:
        await conn.execute(
            sa.delete(subscriptions).where(
                subscriptions.c.contact_id == contact_id, subscriptions.c.topic.in_(removed)
            )
        )
    if topics is None:
        await _record(conn, contact_id, UNSUBSCRIBE, None, channel, source, words, at)
    else:
        for topic in wanted:
            await _record(conn, contact_id, UNSUBSCRIBE, topic, channel, source, words, at)
    return removed


async def topics_of(conn: AsyncConnection, contact_id: int) -> list[str]:
    """The topics the contact holds, in the order they subscribed."""
    rows = await conn.execute(
        sa.select(subscriptions.c.topic)
        .where(subscriptions.c.contact_id == contact_id)
        .order_by(subscriptions.c.id)
    )
    return [str(r.topic) for r in rows]


async def consent_history(conn: AsyncConnection, contact_id: int) -> list[ConsentRecord]:
    rows = await conn.execute(
        sa.select(consent_records)
        .where(consent_records.c.contact_id == contact_id)
        .order_by(consent_records.c.id)
    )
    return [
        ConsentRecord(
            contact_id=int(r.contact_id),
            action=str(r.action),
            topic=r.topic,
            channel=str(r.channel),
            source=str(r.source),
            words=str(r.words),
            at=r.at,
        )
        for r in rows
    ]


async def subscriber_counts(conn: AsyncConnection) -> dict[str, int]:
    """Subscribers per topic, for the console's compose page."""
    rows = await conn.execute(
        sa.select(subscriptions.c.topic, sa.func.count()).group_by(subscriptions.c.topic)
    )
    return {str(topic): int(count) for topic, count in rows}

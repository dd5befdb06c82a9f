"""Dashboard figures on both databases: WITA days, channels, open tickets, breaches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from hub.store import Database, migrate, stats
from hub.store.tables import tickets
from tests.seeds import contact_with_conversation, messages_at


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


async def seed(db: Database) -> None:
    at = datetime(2026, 11, 29, tzinfo=UTC)
    async with db.begin() as conn:
        contact, conversation = await contact_with_conversation(conn, "sms", "+628", at)
        await messages_at(
            conn,
            conversation,
            [
                (datetime(2026, 11, 29, 15, 59, tzinfo=UTC), "sms"),  # 23:59 WITA, 29th
                (datetime(2026, 11, 29, 16, 0, tzinfo=UTC), "sms"),  # 00:00 WITA, 30th
                (datetime(2026, 11, 30, 2, 0, tzinfo=UTC), "webchat"),
                (datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "telegram"),  # before "since"
            ],
        )
        for n, (status, agency, breached) in enumerate(
            [
                ("received", "imigrasi", True),
                ("received", "imigrasi", False),
                ("in_progress", "disdukcapil", False),
                ("closed", "imigrasi", True),
            ]
        ):
            await conn.execute(
                sa.insert(tickets).values(
                    ticket_id=f"CARE-20261129-{n + 1:04d}",
                    kind="complaint",
                    status=status,
                    agency=agency,
                    description="x",
                    contact_id=contact,
                    channel="sms",
                    created_at=at,
                    updated_at=at,
                    sla_breached_at=at if breached else None,
                )
            )


async def test_dashboard_figures(db: Database) -> None:
    await seed(db)
    since = datetime(2026, 11, 23, tzinfo=UTC)
    async with db.engine.connect() as conn:
        per_day = await stats.messages_per_channel_per_day(conn, since)
        by_status = await stats.open_tickets_by_status_and_agency(conn)
        only_imigrasi = await stats.open_tickets_by_status_and_agency(conn, ["imigrasi"])
        breaches = await stats.sla_breaches(conn, since)
    assert per_day == [
        (date(2026, 11, 29), "sms", 1),
        (date(2026, 11, 30), "sms", 1),
        (date(2026, 11, 30), "webchat", 1),
    ]
    assert sorted(by_status) == [("in_progress", "disdukcapil", 1), ("received", "imigrasi", 2)]
    assert only_imigrasi == [("received", "imigrasi", 2)]
    assert breaches == (1, 0)
    assert stats.week_of(date(2026, 12, 2)) == (date(2026, 11, 30), date(2026, 12, 6))

"""A booking's applicant in the store, on SQLite and PostgreSQL: the NIK kept only as
ciphertext, the applicant a contact lets us remember, and retention letting both go."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet

from hub.booking import Applicant, Applicants
from hub.security.vault import NikVault
from hub.store import Database, migrate
from hub.store import bookings as store
from hub.store.retention import Retention
from hub.store.tables import bookings, contacts, conversations

NIK = "5103011204850001"
NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=100)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


@pytest.fixture
def applicants(db: Database) -> Applicants:
    return Applicants(db, NikVault(MultiFernet([Fernet(Fernet.generate_key())])), lambda: NOW)


async def contact_with_conversation(db: Database, *, closed: datetime | None) -> tuple[int, int]:
    async with db.begin() as conn:
        contact = int(
            await conn.scalar(
                sa.insert(contacts)
                .values(display_name="Made", created_at=LONG_AGO, updated_at=LONG_AGO)
                .returning(contacts.c.id)
            )
            or 0
        )
        conversation = await add_conversation(conn, contact, closed)
    return contact, conversation


async def add_conversation(conn: Any, contact: int, closed: datetime | None) -> int:
    return int(
        await conn.scalar(
            sa.insert(conversations)
            .values(
                contact_id=contact,
                status="closed" if closed else "bot",
                channel="whatsapp",
                address="+6281200000001",
                locale="id",
                state={},
                created_at=LONG_AGO,
                updated_at=closed or NOW,
                closed_at=closed,
            )
            .returning(conversations.c.id)
        )
        or 0
    )


async def book(
    db: Database, contact: int, conversation: int, applicant: Applicant, day: date, status: str
) -> str:
    code = f"B-{contact:03d}{conversation:03d}"[:8]
    async with db.begin() as conn:
        record = await store.insert_booking(
            conn,
            code=code,
            contact_id=contact,
            conversation_id=conversation,
            service_id="ktp_el_baru",
            day=day,
            session="pagi",
            queue_number=1,
            queue_label="A-001",
            counter="Loket A1",
            channel="whatsapp",
            at=LONG_AGO,
            applicant_name=applicant.name,
            applicant_nik=applicant.nik,
        )
        await conn.execute(
            sa.update(bookings).where(bookings.c.id == record.id).values(status=status)
        )
    return code


async def row_text(db: Database, table: sa.Table, row_id: int) -> str:
    async with db.engine.connect() as conn:
        row = (await conn.execute(sa.select(table).where(table.c.id == row_id))).one()
    return json.dumps(dict(row._mapping), default=str)


async def test_a_booking_keeps_the_applicants_nik_only_encrypted(
    db: Database, applicants: Applicants
) -> None:
    contact, conversation = await contact_with_conversation(db, closed=None)
    code = await book(
        db,
        contact,
        conversation,
        Applicant("Made", applicants.seal(NIK)),
        date(2026, 12, 4),
        "booked",
    )
    async with db.engine.connect() as conn:
        record = await store.by_code(conn, code)
    assert record is not None and record.applicant_name == "Made"
    assert record.applicant_nik is not None and NIK not in await row_text(db, bookings, record.id)
    assert applicants.masked(record.applicant_nik) == "5103••••••••0001"
    assert applicants.matching([record], "5103 0112 0485 0001") == [record]
    assert applicants.matching([record], "5103011204859999") == []
    assert applicants.matching([record], "not a nik") == []


async def test_the_remembered_applicant_is_saved_with_consent_and_forgotten(
    db: Database, applicants: Applicants
) -> None:
    contact, _conversation = await contact_with_conversation(db, closed=None)
    assert await applicants.saved(contact) is None
    await applicants.save(contact, Applicant("Made Sudiarta", applicants.seal(NIK)))
    saved = await applicants.saved(contact)
    assert saved is not None and saved.name == "Made Sudiarta"
    assert saved.nik is not None and applicants.open(saved.nik) == NIK
    assert NIK not in await row_text(db, contacts, contact)
    with pytest.raises(ValueError, match="with a NIK"):
        await applicants.save(contact, Applicant("Tanpa NIK"))
    assert await applicants.forget(contact) is True
    assert await applicants.saved(contact) is None
    assert await applicants.forget(contact) is False


async def test_retention_lets_the_applicants_go_with_the_conversation(
    db: Database, applicants: Applicants
) -> None:
    # A contact silent for 100 days: a served booking, and a remembered applicant.
    gone, old = await contact_with_conversation(db, closed=LONG_AGO)
    served = await book(
        db, gone, old, Applicant("Made", applicants.seal(NIK)), date(2026, 8, 25), "served"
    )
    await applicants.save(gone, Applicant("Made", applicants.seal(NIK)))
    # Another contact whose old conversation goes, but who talks to us still.
    active, their_old = await contact_with_conversation(db, closed=LONG_AGO)
    async with db.begin() as conn:
        await add_conversation(conn, active, None)
    await applicants.save(active, Applicant("Komang", applicants.seal(NIK)))

    retention = Retention(db, clock=lambda: NOW)
    dry = await retention.purge(timedelta(days=30), dry_run=True)
    assert (dry.conversations, dry.applicants) == (2, 2)
    report = await retention.purge(timedelta(days=30))
    assert (report.conversations, report.applicants) == (2, 2)

    async with db.engine.connect() as conn:
        record = await store.by_code(conn, served)
    assert record is not None and record.status.value == "served"
    assert (record.applicant_name, record.applicant_nik) == (None, None)
    assert await applicants.saved(gone) is None
    kept = await applicants.saved(active)
    assert kept is not None and kept.name == "Komang"
    assert their_old != old

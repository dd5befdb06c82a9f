"""Subscriptions and consent records: the store and the domain service, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hub.announcements import Subscriptions
from hub.announcements.topics import find_topics
from hub.catalogue import load_catalogue
from hub.config import AnnouncementsConfig
from hub.resources import default_catalogue_path
from hub.store import Database, contacts, migrate
from hub.store.tables import consent_records

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def service(db: Database) -> Subscriptions:
    catalogue = load_catalogue(default_catalogue_path())
    return Subscriptions(db, AnnouncementsConfig(), catalogue, clock=lambda: NOW)


async def _contact(db: Database, channel: str, address: str) -> int:
    async with db.begin() as conn:
        return await contacts.resolve_contact(db, conn, channel, address)


def test_topics_are_the_configured_ones_and_one_per_agency(service: Subscriptions) -> None:
    ids = [t.id for t in service.topics()]
    assert ids[:2] == ["pengumuman", "jadwal"]
    assert "imigrasi" in ids and "disdukcapil" in ids
    imigrasi = service.topic("imigrasi")
    assert imigrasi is not None and imigrasi.agency == "imigrasi"


def test_topics_named_in_informal_words(service: Subscriptions) -> None:
    topics = service.topics()
    assert [t.id for t in find_topics("langganan info IMIGRASI dong", topics)] == ["imigrasi"]
    assert [t.id for t in find_topics("mau tau jadwal libur", topics)] == ["jadwal"]
    assert find_topics("halo", topics) == []
    # A word inside another word is no match: "tutupan" is not "tutup".
    assert find_topics("tutupan", topics) == []


async def test_subscribe_records_consent_and_is_idempotent(
    db: Database, service: Subscriptions
) -> None:
    contact = await _contact(db, "sms", "+6281234567890")

    first = await service.subscribe(
        contact, ["imigrasi"], channel="sms", address="+6281234567890", words="langganan imigrasi"
    )
    again = await service.subscribe(
        contact, ["imigrasi", "jadwal"], channel="sms", address="+6281234567890", words="ya"
    )

    assert [t.id for t in first] == ["imigrasi"]
    assert [t.id for t in again] == ["jadwal"]
    assert [t.id for t in await service.held(contact)] == ["imigrasi", "jadwal"]
    records = await service.consents(contact)
    assert [(r.action, r.topic, r.channel, r.source) for r in records] == [
        ("subscribe", "imigrasi", "sms", "chat"),
        ("subscribe", "imigrasi", "sms", "chat"),
        ("subscribe", "jadwal", "sms", "chat"),
    ]
    assert records[0].words == "langganan imigrasi" and records[0].at == NOW


async def test_unknown_topic_is_refused(db: Database, service: Subscriptions) -> None:
    contact = await _contact(db, "telegram", "42")
    with pytest.raises(ValueError, match="unknown topic"):
        await service.subscribe(contact, ["nope"], channel="telegram", address="42", words="x")
    assert await service.held(contact) == []


async def test_stop_unsubscribes_from_everything_with_one_record(
    db: Database, service: Subscriptions
) -> None:
    contact = await _contact(db, "sms", "+6281234567891")
    await service.subscribe(
        contact, ["imigrasi", "jadwal"], channel="sms", address="+6281234567891", words="ya"
    )

    removed = await service.unsubscribe(
        contact, None, channel="sms", words="STOP", source="sms_stop"
    )

    assert sorted(t.id for t in removed) == ["imigrasi", "jadwal"]
    assert await service.held(contact) == []
    last = (await service.consents(contact))[-1]
    assert (last.action, last.topic, last.source, last.words) == (
        "unsubscribe",
        None,
        "sms_stop",
        "STOP",
    )


async def test_unsubscribe_one_topic_keeps_the_others(db: Database, service: Subscriptions) -> None:
    contact = await _contact(db, "telegram", "43")
    await service.subscribe(
        contact, ["imigrasi", "jadwal"], channel="telegram", address="43", words="ya"
    )
    removed = await service.unsubscribe(
        contact, ["jadwal"], channel="telegram", words="stop jadwal"
    )
    assert [t.id for t in removed] == ["jadwal"]
    assert [t.id for t in await service.held(contact)] == ["imigrasi"]
    assert await service.subscriber_counts() == {"imigrasi": 1}


async def test_consent_words_are_masked(db: Database, service: Subscriptions) -> None:
    contact = await _contact(db, "webchat", "visitor-1")
    await service.subscribe(
        contact,
        ["pengumuman"],
        channel="webchat",
        address="visitor-1",
        words="langganan, nik saya 5103012345678901 hp 081234567890",
    )
    async with db.engine.connect() as conn:
        words = await conn.scalar(sa.select(consent_records.c.words))
    assert "5103012345678901" not in str(words) and "081234567890" not in str(words)

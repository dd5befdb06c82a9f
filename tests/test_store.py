"""The SQL store on both backends: schema, contacts, conversations, messages, outbox.

Every test takes ``db_url``, so it runs once on SQLite and once on a fresh real
PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.model import (
    ConversationStatus,
    DeliveryStatus,
    InboundMessage,
    OutboundMessage,
    ProcessingState,
    utcnow,
)
from hub.store import Database, contacts, conversations, messages, migrate
from hub.store import outbox as outbox_store
from hub.store.records import OutboxRecord
from hub.store.tables import identities, outbox
from hub.store.tables import messages as messages_table

PHONE = "+6281234567890"
LONG_LEASE = 60.0
POLL_DEADLINE_SECONDS = 5.0


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.close()


async def _table_names(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        names: list[str] = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    return set(names)


async def _contact(db: Database, channel: str, address: str) -> int:
    async with db.begin() as conn:
        return await contacts.resolve_contact(db, conn, channel, address)


async def _conversation(db: Database, address: str, channel: str = "webchat") -> int:
    async with db.begin() as conn:
        contact_id = await contacts.resolve_contact(db, conn, channel, address)
        record = await conversations.open_for_inbound(
            conn, contact_id, channel, address, "id", utcnow()
        )
    return record.id


def _inbound(
    provider_id: str, *, channel: str = "webchat", text: str = "halo", **kwargs: object
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        sender="someone",
        provider_message_id=provider_id,
        text=text,
        **kwargs,  # type: ignore[arg-type]
    )


async def _insert_inbound(db: Database, conversation_id: int, msg: InboundMessage) -> int | None:
    async with db.begin() as conn:
        return await messages.insert_inbound(db, conn, conversation_id, msg)


async def _outbound(db: Database, conversation_id: int, channel: str, text: str = "hi") -> int:
    async with db.begin() as conn:
        return await messages.insert_outbound(
            conn,
            conversation_id=conversation_id,
            channel=channel,
            author="bot",
            text=text,
            attachments=[],
            reply_to_id=None,
        )


async def _queue(
    db: Database, conversation_id: int, channel: str = "fake", text: str = "hi"
) -> int:
    message_id = await _outbound(db, conversation_id, channel, text)
    payload = OutboundMessage(channel=channel, recipient="someone", text=text).to_dict()
    async with db.begin() as conn:
        return await outbox_store.enqueue(
            conn,
            message_id=message_id,
            conversation_id=conversation_id,
            channel=channel,
            payload=payload,
        )


async def _claim(
    db: Database, channels: tuple[str, ...] = ("fake",), limit: int = 10, lease: float = LONG_LEASE
) -> list[OutboxRecord]:
    return await outbox_store.claim_due(db, list(channels), limit, lease)


async def _status(db: Database, outbox_id: int) -> dict[str, object]:
    async with db.engine.connect() as conn:
        return await outbox_store.status_of(conn, outbox_id)


# --- migrations ---------------------------------------------------------------------------


async def test_migration_creates_and_drops_the_schema(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        assert await migrate.is_empty(db)
        assert await migrate.current_revision(db) is None

        await migrate.upgrade(db)

        assert await migrate.current_revision(db) == migrate.head_revision()
        assert not await migrate.is_empty(db)
        assert {"contacts", "identities", "conversations", "messages", "outbox"} <= (
            await _table_names(db)
        )

        await migrate.downgrade(db, "base")

        assert await migrate.is_empty(db)
        assert await migrate.current_revision(db) is None
        assert not {"contacts", "identities", "conversations", "messages", "outbox"} & (
            await _table_names(db)
        )

        # A downgraded database can be brought up again.
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
    finally:
        await db.close()


# --- contacts -----------------------------------------------------------------------------


async def test_same_identity_resolves_to_same_contact(db: Database) -> None:
    first = await _contact(db, "telegram", "12345")
    second = await _contact(db, "telegram", "12345")

    assert first == second
    async with db.engine.connect() as conn:
        count = await conn.scalar(sa.select(sa.func.count()).select_from(identities))
    assert count == 1


async def test_same_phone_on_two_channels_is_one_contact(db: Database) -> None:
    on_sms = await _contact(db, "sms", PHONE)
    on_whatsapp = await _contact(db, "whatsapp", PHONE)

    assert on_sms == on_whatsapp
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(identities.c.channel, identities.c.address).where(
                    identities.c.contact_id == on_sms
                )
            )
        ).all()
    assert sorted((r.channel, r.address) for r in rows) == [("sms", PHONE), ("whatsapp", PHONE)]


async def test_opaque_address_on_another_channel_is_another_contact(db: Database) -> None:
    phone_contact = await _contact(db, "whatsapp", PHONE)
    webchat_contact = await _contact(db, "webchat", "sess-6f1c2a")
    other_session = await _contact(db, "webchat", "sess-77aa01")

    assert len({phone_contact, webchat_contact, other_session}) == 3


# --- conversations ------------------------------------------------------------------------


async def test_open_conversation_is_reused_and_answers_on_latest_channel(db: Database) -> None:
    contact_id = await _contact(db, "sms", PHONE)
    async with db.begin() as conn:
        first = await conversations.open_for_inbound(conn, contact_id, "sms", PHONE, "id", utcnow())
    async with db.begin() as conn:
        second = await conversations.open_for_inbound(
            conn, contact_id, "whatsapp", PHONE, "id", utcnow()
        )
        stored = await conversations.get(conn, first.id)

    assert second.id == first.id
    assert (second.channel, second.address) == ("whatsapp", PHONE)
    assert stored is not None
    assert (stored.channel, stored.address) == ("whatsapp", PHONE)
    assert stored.status is ConversationStatus.BOT


async def test_closed_conversation_is_not_reused(db: Database) -> None:
    contact_id = await _contact(db, "sms", PHONE)
    async with db.begin() as conn:
        first = await conversations.open_for_inbound(conn, contact_id, "sms", PHONE, "id", utcnow())
        await conversations.save_dialog(
            conn, first.id, state={"turns": 3}, locale="en", status=ConversationStatus.CLOSED
        )
    async with db.begin() as conn:
        second = await conversations.open_for_inbound(
            conn, contact_id, "sms", PHONE, "id", utcnow()
        )
        closed = await conversations.get(conn, first.id)

    assert second.id != first.id
    assert second.status is ConversationStatus.BOT
    assert second.state == {}
    assert closed is not None
    assert closed.status is ConversationStatus.CLOSED
    assert closed.state == {"turns": 3}
    assert closed.locale == "en"


# --- messages -----------------------------------------------------------------------------


async def _count_messages(db: Database, **where: str) -> int:
    clauses = [messages_table.c[name] == value for name, value in where.items()]
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            sa.select(sa.func.count()).select_from(messages_table).where(*clauses)
        )
    return int(value or 0)


async def test_inbound_is_deduplicated_per_channel(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")

    first = await _insert_inbound(db, conversation_id, _inbound("wamid.1", channel="whatsapp"))
    again = await _insert_inbound(db, conversation_id, _inbound("wamid.1", channel="whatsapp"))
    other_channel = await _insert_inbound(db, conversation_id, _inbound("wamid.1", channel="sms"))

    assert first is not None
    assert again is None
    assert other_channel is not None and other_channel != first
    assert await _count_messages(db, channel="whatsapp", provider_message_id="wamid.1") == 1
    assert await _count_messages(db, channel="sms", provider_message_id="wamid.1") == 1
    async with db.engine.connect() as conn:
        assert await messages.is_stored(conn, "whatsapp", "wamid.1")
        assert not await messages.is_stored(conn, "whatsapp", "wamid.2")


async def test_outbound_never_collides_with_inbound_ids(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    outbound_ids = [await _outbound(db, conversation_id, "whatsapp") for _ in range(2)]
    async with db.begin() as conn:
        for outbound_id in outbound_ids:
            await messages.set_delivery(
                conn, outbound_id, DeliveryStatus.SENT, provider_message_id="wamid.X"
            )

    inbound_id = await _insert_inbound(db, conversation_id, _inbound("wamid.X", channel="whatsapp"))

    assert inbound_id is not None
    assert await _count_messages(db, channel="whatsapp", provider_message_id="wamid.X") == 3
    assert await _count_messages(db, direction="outbound", delivery_status="sent") == 2


async def test_pending_inbound_oldest_first_and_mark_processed(db: Database) -> None:
    conv_a = await _conversation(db, "sess-a")
    conv_b = await _conversation(db, "sess-b")
    conv_c = await _conversation(db, "sess-c")
    a_ids = [await _insert_inbound(db, conv_a, _inbound(f"a{i}", text=f"t{i}")) for i in range(3)]
    b_id = await _insert_inbound(db, conv_b, _inbound("b0"))
    c_id = await _insert_inbound(db, conv_c, _inbound("c0"))
    assert None not in a_ids and b_id is not None and c_id is not None
    assert a_ids[0] is not None  # `None not in a_ids` does not narrow the items for mypy

    async with db.begin() as conn:
        pending = await messages.pending_inbound(conn, conv_a)
        with_pending = await messages.conversations_with_pending(conn)
    assert [r.id for r in pending] == a_ids
    assert [r.provider_message_id for r in pending] == ["a0", "a1", "a2"]
    assert [r.text for r in pending] == ["t0", "t1", "t2"]
    assert with_pending == [conv_a, conv_b, conv_c]

    async with db.begin() as conn:
        await messages.mark_processed(conn, a_ids[0], ProcessingState.HANDLED, intent="greet")
        await messages.mark_processed(conn, b_id, ProcessingState.FAILED, error="boom")
    async with db.begin() as conn:
        pending = await messages.pending_inbound(conn, conv_a)
        with_pending = await messages.conversations_with_pending(conn)
    assert [r.id for r in pending] == a_ids[1:]
    assert with_pending == [conv_a, conv_c]


async def test_timestamps_come_back_as_aware_utc(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    wita = timezone(timedelta(hours=8))
    received = datetime(2026, 3, 4, 9, 30, 15, 123456, tzinfo=wita)
    await _insert_inbound(db, conversation_id, _inbound("m1", received_at=received))
    outbox_id = await _queue(db, conversation_id)

    async with db.begin() as conn:
        (record,) = await messages.pending_inbound(conn, conversation_id)
        row = await outbox_store.status_of(conn, outbox_id)

    assert record.created_at == received
    assert record.created_at.tzinfo is UTC
    assert record.created_at.hour == 1  # 09:30 WITA is 01:30 UTC
    for name in ("next_attempt_at", "created_at"):
        value = row[name]
        assert isinstance(value, datetime)
        assert value.tzinfo is UTC
        assert abs(value - utcnow()) < timedelta(minutes=1)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    naive = datetime(2026, 3, 4, 9, 30)

    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        await _insert_inbound(db, conversation_id, _inbound("m1", received_at=naive))
    assert await _count_messages(db, provider_message_id="m1") == 0


# --- outbox -------------------------------------------------------------------------------


async def test_claim_due_leases_a_row_once(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    outbox_id = await _queue(db, conversation_id, text="hello")

    (claimed,) = await _claim(db)
    again = await _claim(db)

    assert claimed.id == outbox_id
    assert claimed.attempts == 1
    assert claimed.payload["text"] == "hello"
    assert again == []
    row = await _status(db, outbox_id)
    assert row["status"] == outbox_store.SENDING
    assert row["attempts"] == 1
    lease_until = row["lease_until"]
    assert isinstance(lease_until, datetime) and lease_until > utcnow()


async def test_expired_lease_can_be_claimed_again(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    outbox_id = await _queue(db, conversation_id)

    (first,) = await _claim(db, lease=0.05)
    assert first.attempts == 1

    deadline = asyncio.get_running_loop().time() + POLL_DEADLINE_SECONDS
    reclaimed = await _claim(db)
    while not reclaimed:
        assert asyncio.get_running_loop().time() < deadline, "lease never expired"
        await asyncio.sleep(0.02)
        reclaimed = await _claim(db)

    assert [r.id for r in reclaimed] == [outbox_id]
    assert reclaimed[0].attempts == 2
    assert (await _status(db, outbox_id))["attempts"] == 2
    assert await _claim(db) == []  # the new lease is long


async def test_only_the_oldest_unsent_row_of_a_conversation_is_claimable(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    first = await _queue(db, conversation_id, text="one")
    second = await _queue(db, conversation_id, text="two")

    assert [r.id for r in await _claim(db)] == [first]
    async with db.begin() as conn:
        await outbox_store.mark_retry(conn, first, "boom", utcnow())
    # Pending again and due: still the head, so the second row waits.
    assert [r.id for r in await _claim(db)] == [first]
    assert await _claim(db) == []

    async with db.begin() as conn:
        await outbox_store.mark_sent(conn, first)
    assert [r.id for r in await _claim(db)] == [second]
    assert (await _status(db, second))["attempts"] == 1


async def test_failed_head_unblocks_the_next_row(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    first = await _queue(db, conversation_id)
    second = await _queue(db, conversation_id)

    assert [r.id for r in await _claim(db)] == [first]
    assert await _claim(db) == []
    async with db.begin() as conn:
        await outbox_store.mark_failed(conn, first, "recipient blocked")

    assert [r.id for r in await _claim(db)] == [second]
    row = await _status(db, first)
    assert (row["status"], row["last_error"]) == (outbox_store.FAILED, "recipient blocked")


async def test_rows_of_other_channels_are_not_claimed(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    outbox_id = await _queue(db, conversation_id, channel="sms")

    assert await _claim(db, ("fake", "email")) == []
    assert (await _status(db, outbox_id))["attempts"] == 0
    assert [r.id for r in await _claim(db, ("fake", "sms"))] == [outbox_id]


async def test_retry_in_the_future_is_not_claimed_before_it(db: Database) -> None:
    conversation_id = await _conversation(db, "sess-1")
    outbox_id = await _queue(db, conversation_id)
    await _claim(db)

    async with db.begin() as conn:
        await outbox_store.mark_retry(conn, outbox_id, "busy", utcnow() + timedelta(seconds=60))

    assert await _claim(db) == []
    row = await _status(db, outbox_id)
    assert (row["status"], row["last_error"], row["lease_until"]) == ("pending", "busy", None)
    due_in = await outbox_store.next_due_in(db, ["fake"])
    assert due_in is not None and 55 < due_in <= 60

    async with db.begin() as conn:
        await outbox_store.mark_retry(conn, outbox_id, "busy", utcnow() - timedelta(seconds=1))
    (claimed,) = await _claim(db)
    assert (claimed.id, claimed.attempts) == (outbox_id, 2)


async def test_depth_counts_pending_and_sending(db: Database) -> None:
    conv_a = await _conversation(db, "sess-a")
    conv_b = await _conversation(db, "sess-b")
    a1 = await _queue(db, conv_a)
    await _queue(db, conv_a)
    b1 = await _queue(db, conv_b)
    assert await outbox_store.depth(db) == 3

    claimed = await _claim(db)
    assert sorted(r.id for r in claimed) == [a1, b1]
    assert await outbox_store.depth(db) == 3  # sending still counts

    async with db.begin() as conn:
        await outbox_store.mark_sent(conn, a1)
    assert await outbox_store.depth(db) == 2
    async with db.begin() as conn:
        await outbox_store.mark_failed(conn, b1, "gone")
    assert await outbox_store.depth(db) == 1


async def test_concurrent_claims_never_take_a_row_twice(db: Database) -> None:
    conversation_ids = [await _conversation(db, f"sess-{i}") for i in range(10)]
    queued = {await _queue(db, conversation_id) for conversation_id in conversation_ids}

    batches = await asyncio.gather(*(_claim(db, limit=1) for _ in range(20)))
    concurrent = [record.id for batch in batches for record in batch]

    assert concurrent, "no concurrent claim succeeded"
    assert len(concurrent) == len(set(concurrent)), f"a row was claimed twice: {concurrent}"
    assert all(len(batch) <= 1 for batch in batches)

    # Whatever the race left is claimable afterwards; in total each row went exactly once.
    rest = [record.id for record in await _claim(db, limit=100)]
    everything = concurrent + rest
    assert sorted(everything) == sorted(queued)
    async with db.engine.connect() as conn:
        attempts = (await conn.execute(sa.select(outbox.c.attempts))).scalars().all()
    assert attempts == [1] * 10


async def test_a_task_cancelled_mid_query_never_leaves_sqlite_locked(tmp_path: Path) -> None:
    """A cancelled request (a client gone, a timeout) must not hold the write lock: the
    next user would wait busy_timeout (30 s) and then fail with "database is locked"."""
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'cancel.db'}")
    try:
        async with db.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(sa.text("INSERT INTO t VALUES (1), (2), (3)"))

        async def user() -> None:
            async with db.engine.connect() as conn:
                for _ in range(5):
                    await conn.execute(sa.text("SELECT * FROM t"))
                    await conn.execute(sa.text("INSERT INTO t VALUES (4)"))

        for attempt in range(200):
            task = asyncio.create_task(user())
            await asyncio.sleep((attempt % 40) * 0.0001)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            async with asyncio.timeout(5):  # far below busy_timeout: a leaked lock fails here
                async with db.begin() as conn:
                    await conn.execute(sa.text("INSERT INTO t VALUES (5)"))
    finally:
        await db.close()


async def test_migrations_build_the_schema_the_tables_declare(db_url: str) -> None:
    """A table or column added to tables.py without its migration (or the reverse) fails."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hub.store.tables import metadata

    db = Database.open(db_url)
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:

            def diff(sync: sa.Connection) -> list[object]:
                context = MigrationContext.configure(
                    sync, opts={"compare_type": False, "compare_server_default": False}
                )
                found: list[object] = compare_metadata(context, metadata)
                return found

            differences = await conn.run_sync(diff)
        assert [d for d in differences if "alembic_version" not in str(d)] == []
    finally:
        await db.close()

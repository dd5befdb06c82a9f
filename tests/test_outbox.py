"""The durable dispatcher, end to end through a Hub on SQLite and on PostgreSQL.

Replies are queued the real way (an inbound "halo" through the inbound pipeline makes the bot
answer with a greeting and a menu), then the dispatcher loop sends them through a
fake channel that fails on demand. Waiting is always a bounded poll of the database.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from hub.app import Hub
from hub.channels.base import Capabilities, Channel, ChannelError
from hub.config import Settings
from hub.model import InboundMessage, OutboundMessage, SendResult, utcnow
from hub.store import Database
from hub.store import outbox as outbox_store
from hub.store.tables import messages, outbox

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")

MakeSettings = Callable[..., Settings]
DEADLINE_SECONDS = 10.0
_ids = itertools.count(1)


class FakeChannel(Channel):
    """Records every send; raises ``ChannelError`` for the first ``fail_times`` calls."""

    capabilities = Capabilities()

    def __init__(
        self,
        *,
        fail_times: float = 0,
        permanent: bool = False,
        retry_after: float | None = None,
        reason: str = "boom",
        fail_first_attempt_of_each: bool = False,
        max_delay: float = 0.0,
    ) -> None:
        self.name = "fake"
        self.fail_times = fail_times
        self.permanent = permanent
        self.retry_after = retry_after
        self.reason = reason
        self.fail_first_attempt_of_each = fail_first_attempt_of_each
        self.max_delay = max_delay
        self.calls: list[OutboundMessage] = []
        self.delivered: list[OutboundMessage] = []
        self.failed_at: list[datetime] = []
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def delivered_keys(self) -> list[str]:
        return [m.idempotency_key for m in self.delivered]

    async def send(self, message: OutboundMessage) -> SendResult:
        seen_before = any(c.idempotency_key == message.idempotency_key for c in self.calls)
        self.calls.append(message)
        number = len(self.calls)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(random.uniform(0, self.max_delay))
            if number <= self.fail_times or (self.fail_first_attempt_of_each and not seen_before):
                self.failed_at.append(utcnow())
                raise ChannelError(
                    self.reason, permanent=self.permanent, retry_after=self.retry_after
                )
            self.delivered.append(message)
            return SendResult(provider_message_id=f"fake-{len(self.delivered)}")
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def running_hub(
    settings: Settings, channel: Channel, *, dispatch: bool = True
) -> AsyncIterator[Hub]:
    hub = Hub(settings, extra_channels=[channel], include_configured_channels=False)
    try:
        await hub.start(dispatch=dispatch)
        yield hub
    finally:
        await hub.close()


async def say(hub: Hub, text: str, sender: str = "citizen-1") -> None:
    """A citizen writes on the fake channel; returns once the bot's replies are queued."""
    accepted = await hub.inbound.accept(
        InboundMessage(
            channel="fake", sender=sender, provider_message_id=f"in-{next(_ids)}", text=text
        )
    )
    assert not accepted.duplicate
    await hub.inbound.idle()


async def outbox_rows(hub: Hub | Database) -> list[RowMapping]:
    db = hub.db if isinstance(hub, Hub) else hub
    async with db.engine.connect() as conn:
        result = await conn.execute(sa.select(outbox).order_by(outbox.c.id))
        return list(result.mappings().all())


async def message_rows(hub: Hub, ids: Sequence[int]) -> list[RowMapping]:
    async with hub.db.engine.connect() as conn:
        result = await conn.execute(
            sa.select(messages).where(messages.c.id.in_(ids)).order_by(messages.c.id)
        )
        return list(result.mappings().all())


async def wait_for_rows(
    hub: Hub, done: Callable[[list[RowMapping]], bool], what: str
) -> list[RowMapping]:
    """Poll the outbox until ``done(rows)``; fail after a bounded deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while True:
        rows = await outbox_rows(hub)
        if done(rows):
            return rows
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}: {[dict(r) for r in rows]}")
        await asyncio.sleep(0.02)


def all_status(status: str) -> Callable[[list[RowMapping]], bool]:
    return lambda rows: bool(rows) and all(r["status"] == status for r in rows)


def keys(rows: Sequence[RowMapping]) -> list[str]:
    return [f"msg-{r['message_id']}" for r in rows]


async def test_transient_failures_are_retried_and_each_row_sent_once(
    db_url: str, make_settings: MakeSettings
) -> None:
    channel = FakeChannel(fail_times=3)
    async with running_hub(make_settings(db_url), channel) as hub:
        await say(hub, "halo")
        rows = await wait_for_rows(hub, all_status("sent"), "every row is sent")
        # Nothing left to claim: another round sends nothing twice.
        assert await hub.dispatcher.dispatch_once() == 0
        sent = await message_rows(hub, [r["message_id"] for r in rows])

    assert len(rows) == 2  # greeting + menu
    assert [r["attempts"] for r in rows] == [4, 1]
    assert all(r["sent_at"] is not None and r["last_error"] is None for r in rows)
    assert channel.delivered_keys == keys(rows)
    assert Counter(channel.delivered_keys) == Counter({k: 1 for k in keys(rows)})
    assert len(channel.calls) == 5
    assert [m["delivery_status"] for m in sent] == ["sent", "sent"]
    assert {m["provider_message_id"] for m in sent} == {"fake-1", "fake-2"}
    assert channel.delivered[0].text.startswith("Halo")


async def test_pending_rows_survive_a_restart_and_are_sent_once(
    db_url: str, make_settings: MakeSettings
) -> None:
    settings = make_settings(db_url, outbox={"max_attempts": 50})
    failing = FakeChannel(fail_times=math.inf)
    async with running_hub(settings, failing) as hub_a:
        await say(hub_a, "halo")
        await wait_for_rows(hub_a, lambda rows: rows[0]["attempts"] >= 2, "two attempts")
    # hub_a is closed: its dispatcher finished its round and stopped.

    db = Database.open(db_url)
    try:
        before = await outbox_rows(db)
    finally:
        await db.close()
    assert [r["status"] for r in before] == ["pending", "pending"]  # neither sent nor failed
    assert before[0]["attempts"] == len(failing.calls) >= 2
    assert before[0]["last_error"] == "boom"
    assert before[1]["attempts"] == 0  # blocked behind the first row

    working = FakeChannel()
    async with running_hub(settings, working) as hub_b:
        after = await wait_for_rows(hub_b, all_status("sent"), "hub B sent everything")
        assert await hub_b.dispatcher.dispatch_once() == 0
        sent = await message_rows(hub_b, [r["message_id"] for r in after])

    assert working.delivered_keys == keys(after)
    assert len(working.calls) == 2
    assert failing.delivered == []
    assert [r["attempts"] for r in after] == [before[0]["attempts"] + 1, 1]
    assert [m["delivery_status"] for m in sent] == ["sent", "sent"]


async def test_permanent_error_fails_the_row_and_the_next_one_still_goes(
    db_url: str, make_settings: MakeSettings
) -> None:
    channel = FakeChannel(fail_times=1, permanent=True, reason="recipient blocked the bot")
    async with running_hub(make_settings(db_url), channel) as hub:
        await say(hub, "halo")
        rows = await wait_for_rows(
            hub, lambda rows: len(rows) == 2 and rows[1]["status"] == "sent", "second row sent"
        )
        sent = await message_rows(hub, [r["message_id"] for r in rows])

    first, second = rows
    assert (first["status"], first["attempts"]) == ("failed", 1)
    assert first["last_error"] == "recipient blocked the bot"
    assert (second["status"], second["attempts"]) == ("sent", 1)
    assert sent[0]["delivery_status"] == "failed"
    assert sent[0]["delivery_error"] == "recipient blocked the bot"
    assert sent[1]["delivery_status"] == "sent"
    assert len(channel.calls) == 2  # the permanent failure was not retried
    assert channel.delivered_keys == [keys(rows)[1]]


async def test_gives_up_after_max_attempts(db_url: str, make_settings: MakeSettings) -> None:
    channel = FakeChannel(fail_times=math.inf)
    async with running_hub(make_settings(db_url, outbox={"max_attempts": 2}), channel) as hub:
        await say(hub, "halo")
        rows = await wait_for_rows(hub, all_status("failed"), "every row failed")
        sent = await message_rows(hub, [r["message_id"] for r in rows])
        depth = await outbox_store.depth(hub.db)

    assert [r["attempts"] for r in rows] == [2, 2]
    assert [r["last_error"] for r in rows] == ["boom", "boom"]
    assert len(channel.calls) == 4
    assert channel.delivered == []
    assert [(m["delivery_status"], m["delivery_error"]) for m in sent] == [("failed", "boom")] * 2
    assert depth == 0


async def test_retry_after_delays_the_next_attempt(
    db_url: str, make_settings: MakeSettings
) -> None:
    channel = FakeChannel(fail_times=1, retry_after=30.0)
    async with running_hub(make_settings(db_url), channel) as hub:
        await say(hub, "halo")
        rows = await wait_for_rows(
            hub,
            lambda rows: rows[0]["attempts"] == 1 and rows[0]["status"] == "pending",
            "the first attempt failed",
        )
        first = rows[0]
        (failed_at,) = channel.failed_at
        # backoff_max_seconds is 0.2: only the provider's retry_after explains this delay.
        assert first["next_attempt_at"] - failed_at >= timedelta(seconds=30)
        assert first["next_attempt_at"] - failed_at < timedelta(seconds=35)
        assert first["last_error"] == "boom"
        assert await hub.dispatcher.dispatch_once() == 0  # not due, and the next row waits
        assert len(channel.calls) == 1

        # Once the time has come (moved forward here), the row goes, then the next one.
        async with hub.db.begin() as conn:
            await outbox_store.mark_retry(conn, first["id"], "boom", utcnow())
        hub.dispatcher.notify()
        rows = await wait_for_rows(hub, all_status("sent"), "every row is sent")

    assert [r["attempts"] for r in rows] == [2, 1]
    assert channel.delivered_keys == keys(rows)


async def test_replies_of_a_conversation_go_in_order_with_concurrency(
    db_url: str, make_settings: MakeSettings
) -> None:
    settings = make_settings(db_url, outbox={"concurrency": 16})
    citizens = ["citizen-a", "citizen-b", "citizen-c"]
    queueing = FakeChannel()
    async with running_hub(settings, queueing, dispatch=False) as hub:
        for citizen in citizens:
            await say(hub, "halo", citizen)  # greeting + menu
            await say(hub, "menu", citizen)  # menu again
    assert queueing.calls == []

    channel = FakeChannel(fail_first_attempt_of_each=True, max_delay=0.01)
    async with running_hub(settings, channel) as hub:
        rows = await wait_for_rows(hub, all_status("sent"), "every row is sent")

    by_conversation: dict[int, list[RowMapping]] = {}
    for row in rows:
        by_conversation.setdefault(row["conversation_id"], []).append(row)
    assert len(by_conversation) == 3
    delivered: dict[str, list[str]] = {}
    for message in channel.delivered:
        delivered.setdefault(message.recipient, []).append(message.idempotency_key)
    assert sorted(delivered) == citizens
    for conversation_rows in by_conversation.values():
        assert len(conversation_rows) == 3
        recipient = conversation_rows[0]["payload"]["recipient"]
        assert delivered[recipient] == keys(conversation_rows)  # id order
    assert Counter(channel.delivered_keys) == Counter({k: 1 for k in keys(rows)})
    assert [r["attempts"] for r in rows] == [2] * 9
    assert channel.max_in_flight >= 2  # conversations really were sent concurrently


async def test_a_reply_queued_during_the_idle_check_is_not_left_waiting(
    db_url: str, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """notify() landing between the dispatcher's last look and its wait must wake it."""
    channel = FakeChannel()
    settings = make_settings(db_url, outbox={"poll_seconds": 30})
    original = outbox_store.next_due_in
    hooks: list[Callable[[], Awaitable[None]]] = []

    async def next_due_in(db: Database, channels: list[str]) -> float | None:
        due = await original(db, channels)
        while hooks:  # the race, forced: a reply is queued right after the query
            await hooks.pop()()
        return due

    monkeypatch.setattr(outbox_store, "next_due_in", next_due_in)
    async with running_hub(settings, channel) as hub:

        async def queue_reply() -> None:
            await say(hub, "halo")

        hooks.append(queue_reply)
        hub.dispatcher.notify()  # one more round, which ends in the hooked check
        # The deadline (10 s) is far below poll_seconds: only the notify can explain a send.
        rows = await wait_for_rows(hub, all_status("sent"), "the reply is sent")

    assert not hooks
    assert channel.delivered_keys == keys(rows)

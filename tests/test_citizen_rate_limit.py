"""A flood from one citizen address is slowed with one polite notice and delays nobody else.

Through the real app: recorded Twilio webhooks posted to the hub, replies sent to a fake
Twilio API, the limit counted by the hub's own limiter (in memory, or Redis shared by two
hub "processes").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.config import Settings
from hub.store.tables import messages
from tests.fakes.twilio import FakeTwilio
from tests.test_twilio import (
    CITIZEN,
    WEBHOOK,
    eventually,
    fetch,
    fixture,
    post,
    settings_for,
)

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

OTHER = "+6281299990000"
NOTICE = "Pesan Anda banyak sekali"
LIMIT = 5


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def sms(client: TestClient[Any, Any], sender: str, sid: str, text: str = "halo") -> None:
    response = await post(
        client, WEBHOOK, fixture("sms_text", MessageSid=sid, From=sender, Body=text)
    )
    assert response.status == 200, "the provider always gets its 2xx"


async def rows(client: TestClient[Any, Any], address: str, direction: str) -> list[Any]:
    from hub.store.tables import conversations

    query = (
        sa.select(messages)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(conversations.c.address == address, messages.c.direction == direction)
        .order_by(messages.c.id)
    )
    return await fetch(client, query)


async def settle(*clients: TestClient[Any, Any]) -> None:
    for client in clients:
        await client.app[HUB].inbound.idle()


def not_answered(body: str, channel: str) -> float:
    line = f'omnihub_inbound_not_answered_total{{channel="{channel}",reason="rate_limited"}}'
    values = [float(row.split()[-1]) for row in body.splitlines() if row.startswith(line)]
    return sum(values)


async def test_a_flood_over_two_processes_gets_one_notice_and_another_citizen_is_answered(
    pg_url: str,
    hub_redis_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake_twilio: FakeTwilio,
) -> None:
    base = settings_for(make_settings, fake_twilio, whatsapp=False)
    settings = base.model_copy(
        update={
            "storage": base.storage.model_copy(update={"url": pg_url}),
            "redis": base.redis.model_copy(update={"url": hub_redis_url}),
            "ratelimit": base.ratelimit.model_copy(update={"citizen": f"{LIMIT}/minute"}),
        }
    )
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    for n in range(30):
        await sms(first if n % 2 == 0 else second, CITIZEN, f"SM{n:032x}")
    await sms(second, OTHER, "SM" + "f" * 32)
    # A provider's re-delivery of a limited message is still recognised as one.
    await sms(first, CITIZEN, f"SM{29:032x}")

    async def other_answered() -> bool:
        return bool(await rows(first, OTHER, "outbound"))

    await eventually(other_answered, "the other citizen's answer")
    other_reply = (await rows(first, OTHER, "outbound"))[0]
    await settle(first, second)

    inbound = await rows(first, CITIZEN, "inbound")
    assert len(inbound) == 30, "every message of the flood is kept"
    limited = [r for r in inbound if r.processing_error == "rate_limited"]
    assert len(limited) == 30 - LIMIT, "both processes counted into one limit"
    assert all(r.processing == "handled" and r.intent is None for r in limited), "no NLU"
    replies = await rows(first, CITIZEN, "outbound")
    notices = [r for r in replies if NOTICE in r.text]
    assert len(notices) == 1, "one polite notice per window"
    answered = {r.reply_to_id for r in replies if r not in notices}
    assert len(answered) == LIMIT
    assert {r.id for r in inbound} - {r.id for r in limited} == answered
    # Order, not time: nothing of the flood but its allowed answers and the notice came first.
    before = [r for r in replies if r.id < other_reply.id]
    assert len({r.reply_to_id for r in before if r not in notices}) <= LIMIT
    metrics = [await (await c.get("/metrics")).text() for c in (first, second)]
    assert sum(not_answered(m, "sms") for m in metrics) == 30 - LIMIT
    assert (await rows(first, OTHER, "inbound"))[0].processing_error is None


async def test_webhooks_are_limited_per_sender_not_per_source_address(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake_twilio: FakeTwilio,
) -> None:
    settings = settings_for(make_settings, fake_twilio, whatsapp=False)
    settings = settings.model_copy(
        update={"ratelimit": settings.ratelimit.model_copy(update={"citizen": "2/minute"})}
    )
    client = await aiohttp_client(create_app(settings))
    # All from the same source address (the test client, as Twilio's few servers would be).
    senders = [f"+62812000000{n:02d}" for n in range(6)]
    for n, sender in enumerate(senders):
        await sms(client, sender, f"SM{n:032x}")
    await settle(client)
    for sender in senders:
        (message,) = await rows(client, sender, "inbound")
        assert message.processing_error is None, "a different sender is a different limit"
        assert await rows(client, sender, "outbound")
    for n in range(6, 9):
        await sms(client, senders[0], f"SM{n:032x}")
    await settle(client)
    first = await rows(client, senders[0], "inbound")
    assert [r.processing_error for r in first] == [None, None, "rate_limited", "rate_limited"]
    notices = [r for r in await rows(client, senders[0], "outbound") if NOTICE in r.text]
    assert len(notices) == 1
    assert not [r for r in await rows(client, senders[1], "outbound") if NOTICE in r.text]


async def test_telegram_updates_are_limited_per_chat_not_per_source_address(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    from tests.fakes.telegram import FakeTelegram
    from tests.test_telegram import load, telegram_settings
    from tests.test_telegram import post as telegram_post

    fake = await FakeTelegram().start()
    try:
        settings = telegram_settings(make_settings, fake)
        settings = settings.model_copy(
            update={"ratelimit": settings.ratelimit.model_copy(update={"citizen": "2/minute"})}
        )
        client = await aiohttp_client(create_app(settings))

        async def say(chat: int, n: int) -> None:
            update = load("text")
            update["update_id"] = 873200101 + n
            update["message"]["message_id"] = 2000 + n
            update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat
            assert (await telegram_post(client, update)).status == 200

        flooder, others = 5012345678, [5012345600 + n for n in range(4)]
        for n in range(6):
            await say(flooder, n)
        for n, chat in enumerate(others):
            await say(chat, 100 + n)
        await settle(client)
        flood = await rows(client, str(flooder), "inbound")
        assert [r.processing_error for r in flood] == [None, None] + ["rate_limited"] * 4
        notices = [r for r in await rows(client, str(flooder), "outbound") if NOTICE in r.text]
        assert len(notices) == 1
        for chat in others:
            (message,) = await rows(client, str(chat), "inbound")
            assert message.processing_error is None, "same source address, other sender"
            assert await rows(client, str(chat), "outbound")
    finally:
        await fake.close()


async def test_every_rate_of_a_rule_counts_in_memory_and_in_redis(
    hub_redis_url: str, hub_redis_prefix: str
) -> None:
    from hub.coordination.ratelimit import RateLimiter

    for url in (None, hub_redis_url):
        limiter = RateLimiter.open({"citizen": "5/minute;3/hour"}, url, prefix=hub_redis_prefix)
        try:
            verdicts = [await limiter.hit("citizen", "sms:+6281234567890") for _ in range(4)]
            assert [v.allowed for v in verdicts] == [True, True, True, False], url
            assert 3000 < verdicts[-1].retry_after <= 3600, "the hour's window, the longest wait"
            assert limiter.shortest_window("citizen") == 60
            assert (await limiter.hit("citizen", "sms:+6281234567891")).allowed, "per key"
            await limiter.clear("citizen", "sms:+6281234567890")
            assert await limiter.test("citizen", "sms:+6281234567890")
        finally:
            await limiter.close()

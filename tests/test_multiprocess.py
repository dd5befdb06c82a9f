"""Two hub processes on one PostgreSQL and one Redis behave as one hub."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.config import Settings
from hub.store.tables import messages, outbox
from tests.chat_client import ChatClient, unread

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]


async def test_two_processes_share_dedupe_locks_and_live_replies(
    pg_url: str,
    hub_redis_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(pg_url, redis={"url": hub_redis_url})
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    # One browser tab on each process, same visitor (the same cookie).
    tab_a = await ChatClient.connect(first)
    tab_b = await ChatClient.connect(second, tab_a.cookie)
    sent = await tab_a.say("halo", message_id="same-id")
    # Tab B sees the replies although its socket lives in the other process.
    replies_b = await tab_b.replies(2)
    replies_a = await tab_a.replies(2)
    assert [r["reply_to"] for r in replies_b] == [sent, sent]
    assert [r["id"] for r in replies_a] == [r["id"] for r in replies_b]
    # The provider (here: the page) re-delivers the same message to the other process.
    await tab_b.acknowledged(await tab_b.say("halo", message_id="same-id"))
    hub = first.app[HUB]
    assert await unread(tab_b, hub) == []
    async with hub.db.engine.connect() as conn:
        inbound = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(messages)
            .where(messages.c.direction == "inbound")
        )
        sent_rows = await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "sent")
        )
    assert inbound == 1
    assert sent_rows == 2
    health = await (await second.get("/healthz")).json()
    assert health["checks"] == {"database": True, "redis": True}
    await tab_a.close()
    await tab_b.close()


async def test_two_processes_keep_one_conversation_in_order(
    pg_url: str,
    hub_redis_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(pg_url, redis={"url": hub_redis_url})
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    tab_a = await ChatClient.connect(first)
    tab_b = await ChatClient.connect(second, tab_a.cookie)
    ids = []
    for n in range(10):
        tab = tab_a if n % 2 == 0 else tab_b
        ids.append(await tab.say(f"halo {n}", message_id=f"m{n}"))
        await tab.acknowledged(ids[-1])  # sent order across two processes = ack order
    replies = await tab_a.replies(20, timeout=60)
    order = [r["reply_to"] for r in replies]
    # Each message answered twice (greeting + menu), in the order they were stored.
    assert order == [i for i in ids for _ in range(2)]
    await asyncio.gather(tab_a.close(), tab_b.close())

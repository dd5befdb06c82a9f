"""Web chat conversations through the real app: HTTP, websocket, pipeline, outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.config import Settings
from hub.model import InboundMessage
from hub.store.tables import conversations, messages, outbox
from tests.chat_client import ChatClient

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]


async def _count(client: TestClient[Any, Any], query: Any) -> int:
    hub = client.app[HUB]
    async with hub.db.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def test_indonesian_greeting_gets_indonesian_menu_with_buttons(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await ChatClient.connect(client)
    sent = await chat.say("halo, selamat pagi")
    greet, menu = await chat.replies(2)
    assert sent in chat.acks
    assert "selamat datang" in greet["text"]
    assert greet["reply_to"] == sent and menu["reply_to"] == sent
    assert "Saya bisa membantu" in menu["text"]
    assert [c["title"] for c in menu["choices"]] == [
        "Info layanan",
        "Ambil antrean",
        "Pengaduan (CARE)",
        "Bicara dengan petugas",
        "Langganan info",
    ]
    assert "Balas dengan angka" not in menu["text"], "buttons, not a numbered menu"
    await chat.close()


async def test_english_gets_english_and_choice_buttons_work(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await ChatClient.connect(client)
    await chat.say("hello, good morning")
    greet, menu = await chat.replies(2)
    assert greet["text"].startswith("Hello, welcome")
    assert "I can help you with" in menu["text"]
    booking = next(c for c in menu["choices"] if c["payload"] == "/book_queue")
    assert booking["title"] == "Book a queue"
    await chat.choose(booking["payload"], booking["title"])
    (answer,) = await chat.replies(1)
    assert answer["text"].startswith("Which service would you like a queue number for?")
    assert answer["choices"][0]["payload"] == '/book_queue{"service": "ktp_el_baru"}'
    await chat.close()


async def test_same_message_id_twice_is_stored_and_answered_once(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await ChatClient.connect(client)
    first = await chat.say("halo", message_id="resend-1")
    assert len(await chat.replies(2)) == 2
    again = await chat.say("halo", message_id="resend-1")
    assert first == again
    assert await chat.quiet(0.5) == []
    assert chat.acks.count("resend-1") == 2, "a resend is acknowledged, not answered"
    inbound = (
        sa.select(sa.func.count()).select_from(messages).where(messages.c.direction == "inbound")
    )
    outbound = sa.select(sa.func.count()).select_from(outbox)
    assert await _count(client, inbound) == 1
    assert await _count(client, outbound) == 2
    await chat.close()


async def test_reload_continues_the_conversation(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await ChatClient.connect(client)
    await chat.say("halo")
    await chat.replies(2)
    await chat.close()
    reloaded = await ChatClient.connect(client, chat.cookie)
    await reloaded.say("halo")
    greet, _ = await reloaded.replies(2)
    assert greet["text"].startswith("Halo lagi")
    assert await _count(client, sa.select(sa.func.count()).select_from(conversations)) == 1
    await reloaded.close()


async def test_reply_waits_in_outbox_while_visitor_is_offline(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    hub = client.app[HUB]
    session = uuid.uuid4().hex
    accepted = await hub.inbound.accept(
        InboundMessage(
            channel="webchat", sender=session, provider_message_id=f"{session}:m1", text="halo"
        )
    )
    assert not accepted.duplicate
    retried = (
        sa.select(sa.func.count())
        .select_from(outbox)
        .where(outbox.c.status == "pending", outbox.c.attempts >= 2)
    )
    async with asyncio.timeout(10):
        while await _count(client, retried) == 0:
            await asyncio.sleep(0.02)
    chat = await ChatClient.connect(client, hub.channels["webchat"].cookies.sign(session))
    greet, menu = await chat.replies(2, timeout=10)
    assert "selamat datang" in greet["text"] and menu["choices"]
    failed = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "failed")
    assert await _count(client, failed) == 0
    await chat.close()


async def test_page_static_files_and_bad_requests(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    page = await client.get("/chat")
    html = await page.text()
    assert page.status == 200
    assert "/chat/static/chat.js" in html and "MPP Badung" in html
    assert "http://" not in html.replace("http://www.w3.org", ""), "no external resources"
    script = await client.get("/chat/static/chat.js")
    assert script.status == 200 and "WebSocket" in await script.text()
    assert (await client.get("/chat/static/../../pyproject.toml")).status == 404
    assert (await client.get("/chat/static/secret.py")).status == 404
    assert (await client.get("/chat/ws")).status == 400
    chat = await ChatClient.connect(client)
    await chat.ws.send_str("not json")
    error = await chat.next_frame()
    assert error["type"] == "error" and error["code"] == "bad_frame"
    await chat.ws.send_str('{"type": "message", "id": "x1", "text": "' + "a" * 2001 + '"}')
    error = await chat.next_frame()
    assert error["type"] == "error" and "2000" in error["message"]
    await chat.close()


async def test_fifty_conversations_keep_their_own_order(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    # Fifty visitors from one address: more than the per-address limits let through.
    client = await aiohttp_client(create_app(make_settings(ratelimit={"enabled": False})))
    chats = [await ChatClient.connect(client) for _ in range(50)]

    async def converse(chat: ChatClient) -> tuple[list[str], list[str]]:
        ids = [await chat.say(f"halo {n}", message_id=f"{chat.session[:8]}-{n}") for n in range(10)]
        replies = await chat.replies(20, timeout=120)
        return ids, [r["reply_to"] for r in replies]

    results = await asyncio.gather(*(converse(chat) for chat in chats))
    for ids, reply_to in results:
        # Two replies per message (greeting + menu), in the order the messages were sent.
        assert reply_to == [i for i in ids for _ in range(2)]
    for chat in chats:
        await chat.close()

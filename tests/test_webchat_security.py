"""Nobody can be a web-chat visitor but their own browser, and nobody can flood the chat.

Before issue #12 the visitor was an id the browser chose and sent in the URL
(``/chat/ws?session=ID``): whoever saw it (a proxy's access log, a shared link,
a screenshot) read the replies and wrote as that visitor, from any site.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientSession, CookieJar, WSServerHandshakeError
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.channels.webchat import COOKIE, VisitorCookie, WebchatChannel
from hub.config import ConfigError, Settings
from hub.model import OutboundMessage
from hub.store.tables import conversations, messages
from tests.chat_client import ChatClient, new_visitor_cookie

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

EMBEDDER = "https://mpp.badungkab.go.id"


def _channel(client: TestClient[Any, Any]) -> WebchatChannel:
    channel = client.app[HUB].channels["webchat"]
    assert isinstance(channel, WebchatChannel)
    return channel


async def _inbound_texts_of(client: TestClient[Any, Any], visitor: str) -> list[str]:
    """The texts stored in the conversation whose web-chat address is ``visitor``."""
    hub = client.app[HUB]
    query = (
        sa.select(messages.c.text)
        .select_from(messages.join(conversations, messages.c.conversation_id == conversations.c.id))
        .where(
            conversations.c.channel == "webchat",
            conversations.c.address == visitor,
            messages.c.direction == "inbound",
        )
        .order_by(messages.c.id)
    )
    async with hub.db.engine.connect() as conn:
        return [str(row.text) for row in await conn.execute(query)]


async def _inbound_count(client: TestClient[Any, Any]) -> int:
    hub = client.app[HUB]
    query = (
        sa.select(sa.func.count()).select_from(messages).where(messages.c.direction == "inbound")
    )
    async with hub.db.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def _reply_to(client: TestClient[Any, Any], visitor: str, text: str) -> None:
    await _channel(client).send(
        OutboundMessage(channel="webchat", recipient=visitor, text=text, idempotency_key=text)
    )


async def _error(chat: ChatClient, timeout: float = 10.0) -> dict[str, Any]:
    """The next error frame; acks and bot messages before it are kept on the side."""
    while True:
        frame = await chat.next_frame(timeout)
        if frame["type"] == "error":
            return frame
        if frame["type"] == "ack":
            chat.acks.append(frame["id"])
        else:
            chat.buffered.append(frame)


async def test_a_leaked_visitor_id_neither_reads_nor_writes_as_the_visitor(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    victim = await ChatClient.connect(client)
    await victim.acknowledged(await victim.say("nomor tiket saya rahasia"))
    # The old way in: the id in the URL, and the id as the cookie value itself.
    origin = str(client.make_url("/")).rstrip("/")
    by_url = await client.ws_connect(
        f"/chat/ws?session={victim.session}", headers={"Origin": origin}
    )
    by_bare_cookie = await client.ws_connect(
        "/chat/ws", headers={"Origin": origin, "Cookie": f"{COOKIE}={victim.session}"}
    )
    intruders = [ChatClient(by_url, "x"), ChatClient(by_bare_cookie, "y")]
    await _reply_to(client, victim.session, "balasan untuk korban")
    reply = await victim.messages_with_ids(["balasan untuk korban"])
    seen = [m["text"] for m in [*victim.buffered, *reply]]
    assert "balasan untuk korban" in seen, "the visitor's own tab gets the reply"
    for intruder in intruders:
        found = [m["text"] for m in await intruder.quiet(0.5)]
        assert "balasan untuk korban" not in found, "an intruder read the visitor's reply"
        await intruder.ws.send_json({"type": "message", "id": "forged-1", "text": "saya korban"})
        await intruder.acknowledged("forged-1")
    assert await _inbound_texts_of(client, victim.session) == ["nomor tiket saya rahasia"]
    for chat in (victim, *intruders):
        await chat.close()


async def test_a_tampered_expired_or_foreign_cookie_gets_a_new_visitor(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    victim = await ChatClient.connect(client)
    await victim.acknowledged(await victim.say("halo"))
    visitor, issued, signature = victim.cookie.split(".")
    other = uuid.uuid4().hex
    forged = [
        f"{other}.{issued}.{signature}",  # another visitor under the victim's signature
        f"{visitor}.{int(issued) + 1}.{signature}",  # the victim with a changed date
        VisitorCookie(b"not the hub's secret at all!!", 86400).sign(visitor),
        _channel(client).cookies.sign(visitor, now=time.time() - 91 * 86400),  # expired
    ]
    for value in forged:
        async with client.get("/chat", headers={"Cookie": f"{COOKIE}={value}"}) as page:
            issued_now = page.cookies[COOKIE].value
        client.session.cookie_jar.clear(lambda morsel: morsel.key == COOKIE)
        assert issued_now.split(".")[0] not in (visitor, other)
        chat = await ChatClient.connect(client, value)
        assert chat.session not in (visitor, other), "the handshake issued a new visitor"
        await chat.acknowledged(await chat.say(f"menyamar {forged.index(value)}"))
        await chat.close()
    assert await _inbound_texts_of(client, visitor) == ["halo"]
    assert await _inbound_texts_of(client, other) == []
    # The real cookie is still the victim: a reload continues the conversation.
    again = await ChatClient.connect(client, victim.cookie)
    await again.acknowledged(await again.say("saya kembali"))
    assert await _inbound_texts_of(client, visitor) == ["halo", "saya kembali"]
    await again.close()
    await victim.close()


async def test_a_page_reload_keeps_the_visitor_and_renews_the_cookie(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    cookie = await new_visitor_cookie(client)
    async with client.get("/chat", headers={"Cookie": f"{COOKIE}={cookie}"}) as page:
        renewed = page.cookies[COOKIE]
    client.session.cookie_jar.clear(lambda morsel: morsel.key == COOKIE)
    assert renewed.value.split(".")[0] == cookie.split(".")[0]
    assert renewed["max-age"] == str(90 * 86400)


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example", "file://"]
)
async def test_a_websocket_from_a_foreign_origin_is_refused_before_the_upgrade(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], origin: str
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    cookie = await new_visitor_cookie(client)
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect(
            "/chat/ws", headers={"Origin": origin, "Cookie": f"{COOKIE}={cookie}"}
        )
    assert refused.value.status == 403


async def test_a_configured_embedding_site_and_the_public_url_may_open_the_websocket(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        server={"public_url": "https://chat.badungkab.go.id"},
        security={"webchat_origins": [EMBEDDER + "/"]},
    )
    client = await aiohttp_client(create_app(settings))
    for origin in (EMBEDDER, "https://chat.badungkab.go.id", "https://CHAT.badungkab.go.id:443"):
        ws = await client.ws_connect("/chat/ws", headers={"Origin": origin})
        await ws.send_json({"type": "message", "id": "m1", "text": "halo"})
        ack = await ws.receive_json(timeout=10)
        assert ack == {"type": "ack", "id": "m1"}
        await ws.close()
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/chat/ws", headers={"Origin": "https://badungkab.go.id"})
    assert refused.value.status == 403


async def test_chat_page_and_its_files_carry_the_security_headers(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    for path in ("/chat", "/chat/static/chat.js", "/chat/static/chat.css"):
        response = await client.get(path)
        assert response.status == 200
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'self'" in csp and "'unsafe-inline'" not in csp
        assert f"ws://{client.host}:{client.port}" in csp
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    client.session.cookie_jar.clear()
    page = await client.get("/chat")
    html = await page.text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"
    assert "<style" not in html and " style=" not in html and not re.search(r"\son\w+=", html)
    cookie = page.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/chat"
    assert not cookie["secure"], "a plain-http hub could not send a Secure cookie back"


async def test_embedding_origins_and_https_change_framing_and_cookie(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        server={"public_url": "https://chat.badungkab.go.id"},
        security={"webchat_origins": [EMBEDDER]},
    )
    client = await aiohttp_client(create_app(settings))
    page = await client.get("/chat")
    csp = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {EMBEDDER}" in csp
    assert "wss://chat.badungkab.go.id" in csp
    assert "X-Frame-Options" not in page.headers, "frame-ancestors decides instead"
    assert page.cookies[COOKIE]["secure"]


async def test_the_visitor_id_is_in_no_url_and_no_log_line(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The hub's own loggers to the last detail; libraries at the level a hub runs them.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="hub")
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    client = await aiohttp_client(create_app(make_settings()))
    chat = await ChatClient.connect(client)
    await chat.say("halo")
    await chat.replies(2)
    await chat.close()
    page = await client.get("/chat", headers={"Cookie": f"{COOKIE}={chat.cookie}"})
    assert chat.session not in await page.text()
    assert chat.session not in (await (await client.get("/chat/static/chat.js")).text())
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert any("/chat/ws" in r.getMessage() for r in access), "the access log was captured"
    for record in caplog.records:
        line = f"{record.getMessage()} {record.__dict__}"
        assert chat.session not in line, f"visitor id logged by {record.name}"


async def test_new_visitors_from_one_address_are_limited_with_retry_after(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ratelimit={"webchat_new_visitors_ip": "2/minute"})
    client = await aiohttp_client(create_app(settings))
    first = await new_visitor_cookie(client)
    await new_visitor_cookie(client)
    client.session.cookie_jar.clear()
    busy = await client.get("/chat")
    assert busy.status == 429
    assert 0 < int(busy.headers["Retry-After"]) <= 60
    text = await busy.text()
    assert "terlalu banyak percakapan baru" in text and "too many new conversations" in text
    assert COOKIE not in busy.cookies and "Content-Security-Policy" in busy.headers
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/chat/ws")
    assert refused.value.status == 429
    # A visitor who already has a cookie is not new: reloads and sockets keep working.
    reload = await client.get("/chat", headers={"Cookie": f"{COOKIE}={first}"})
    assert reload.status == 200
    chat = await ChatClient.connect(client, first)
    await chat.acknowledged(await chat.say("halo"))
    await chat.close()


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    limits = {"webchat_new_visitors_ip": "1/minute"}
    behind_proxy = await aiohttp_client(
        create_app(make_settings(ratelimit=limits, server={"trusted_proxies": ["127.0.0.1"]}))
    )
    direct = await aiohttp_client(create_app(make_settings(ratelimit=limits)))

    async def status(client: TestClient[Any, Any], forwarded_for: str) -> int:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
            url = client.make_url("/chat")
            async with browser.get(url, headers={"X-Forwarded-For": forwarded_for}) as page:
                return page.status

    assert await status(behind_proxy, "203.0.113.1") == 200
    assert await status(behind_proxy, "203.0.113.1") == 429
    assert await status(behind_proxy, "203.0.113.2") == 200, "another client behind the proxy"
    assert await status(direct, "203.0.113.1") == 200
    assert await status(direct, "203.0.113.2") == 429, "a client cannot choose its address"


async def test_messages_over_the_address_limit_get_one_notice_and_do_not_reach_the_hub(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ratelimit={"webchat_ip": "3/minute", "citizen": None})
    client = await aiohttp_client(create_app(settings))
    chat = await ChatClient.connect(client)
    for n in range(3):
        await chat.acknowledged(await chat.say(f"pesan {n}"))
    fourth = await chat.say("pesan 3")
    notice = await _error(chat)
    assert notice["code"] == "rate_limited" and notice["id"] == fourth and notice["notice"]
    assert 0 < notice["retry_after"] <= 60
    fifth = await chat.say("pesan 4")
    quiet = await _error(chat)
    assert quiet["id"] == fifth and quiet["notice"] is False, "one notice, not one per message"
    # Another visitor from the same address shares the address's limit.
    neighbour = await ChatClient.connect(client)
    refused = await neighbour.say("saya juga")
    assert (await _error(neighbour))["id"] == refused
    assert fourth not in chat.acks and fifth not in chat.acks and refused not in neighbour.acks
    assert await _inbound_count(client) == 3
    await chat.close()
    await neighbour.close()


async def test_message_limit_counts_the_forwarded_address_behind_a_trusted_proxy(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        ratelimit={"webchat_ip": "1/minute", "citizen": None},
        server={"trusted_proxies": ["127.0.0.1/32"]},
    )
    client = await aiohttp_client(create_app(settings))
    one = await ChatClient.connect(client, headers={"X-Forwarded-For": "198.51.100.7"})
    two = await ChatClient.connect(client, headers={"X-Forwarded-For": "198.51.100.8"})
    await one.acknowledged(await one.say("halo"))
    await two.acknowledged(await two.say("halo"))
    refused = await one.say("halo lagi")
    assert (await _error(one))["id"] == refused
    assert await _inbound_count(client) == 2
    await one.close()
    await two.close()


async def test_a_forged_host_header_cannot_write_into_the_policy(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    page = await client.get("/chat", headers={"Host": "x; script-src *"})
    assert page.status == 200
    assert "script-src *" not in page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "origin", ["mpp.badungkab.go.id", "https://mpp.badungkab.go.id/chat", "ftp://mpp.example"]
)
def test_an_embedding_origin_must_be_scheme_and_host(
    make_settings: Callable[..., Settings], origin: str
) -> None:
    with pytest.raises(ConfigError, match="webchat_origins"):
        make_settings(security={"webchat_origins": [origin]})

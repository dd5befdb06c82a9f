"""A small web chat client for tests: a browser of its own, speaking the page's protocol.

Like a browser it opens ``/chat`` first and keeps the visitor cookie the hub
issues; each client is its own visitor unless given another's cookie (a second
tab of the same browser). The cookie never goes into the shared test client's
jar, so several visitors (and a logged-in officer) can share one test client.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from hub.app import Hub
from hub.channels.webchat import COOKIE
from hub.store import outbox as outbox_store
from hub.store.tables import conversations, messages, outbox
from tests.settle import settled

if TYPE_CHECKING:
    from playwright.async_api import Page


def visitor_of(cookie: str) -> str:
    """The visitor id (the conversation's address) inside a cookie value."""
    return cookie.split(".", 1)[0]


async def new_visitor_cookie(
    client: TestClient[Any, Any], headers: Mapping[str, str] | None = None
) -> str:
    """Open the page as a browser without cookies would; the cookie value it was given."""
    client.session.cookie_jar.clear(lambda morsel: morsel.key == COOKIE)
    async with client.get("/chat", headers=headers) as page:
        assert page.status == 200, f"/chat answered {page.status}"
        cookie = page.cookies[COOKIE].value
    client.session.cookie_jar.clear(lambda morsel: morsel.key == COOKIE)
    return cookie


async def browser_visitor(page: Page) -> str:
    """The visitor a real browser page is (from its HttpOnly cookie, which scripts cannot read)."""
    cookies = [c for c in await page.context.cookies() if c.get("name") == COOKIE]
    assert len(cookies) == 1, cookies
    assert cookies[0].get("httpOnly"), "the visitor cookie is HttpOnly"
    return visitor_of(cookies[0].get("value", ""))


class ChatClient:
    def __init__(self, ws: ClientWebSocketResponse, cookie: str) -> None:
        self.ws = ws
        self.cookie = cookie
        self.session = visitor_of(cookie)
        self.acks: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.buffered: list[dict[str, Any]] = []
        self.received: set[str] = set()
        """The ids of every bot message that arrived on the socket, read or buffered."""

    @classmethod
    async def connect(
        cls,
        client: TestClient[Any, Any],
        cookie: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatClient:
        """A new visitor, or the visitor whose ``cookie`` is given (a reload, another tab).

        ``headers`` go with both requests (``X-Forwarded-For`` from a proxy, say)."""
        cookie = cookie or await new_visitor_cookie(client, headers)
        origin = str(client.make_url("/")).rstrip("/")
        jar = client.session.cookie_jar
        jar.clear(lambda morsel: morsel.key == COOKIE)  # else the jar's would replace ours
        ws = await client.ws_connect(
            "/chat/ws",
            headers={**(headers or {}), "Cookie": f"{COOKIE}={cookie}", "Origin": origin},
        )
        # A cookie the hub did not accept is replaced on the handshake: that is who we are.
        issued = [morsel.value for morsel in jar if morsel.key == COOKIE]
        jar.clear(lambda morsel: morsel.key == COOKIE)
        return cls(ws, issued[-1] if issued else cookie)

    async def say(self, text: str, message_id: str | None = None) -> str:
        message_id = message_id or uuid.uuid4().hex
        await self.ws.send_str(json.dumps({"type": "message", "id": message_id, "text": text}))
        return message_id

    async def choose(self, payload: str, title: str = "") -> str:
        message_id = uuid.uuid4().hex
        frame = {"type": "choice", "id": message_id, "payload": payload, "text": title}
        await self.ws.send_str(json.dumps(frame))
        return message_id

    async def acknowledged(self, message_id: str, timeout: float = 10.0) -> None:
        """Wait for the hub to confirm it stored ``message_id``; replies are kept for later."""
        async with asyncio.timeout(timeout):
            while message_id not in self.acks:
                frame = await self.next_frame(timeout)
                if frame["type"] == "ack":
                    self.acks.append(frame["id"])
                elif frame["type"] == "message":
                    self.buffered.append(frame)

    async def next_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != WSMsgType.TEXT:
            raise AssertionError(f"websocket closed or errored: {msg.type}")
        frame: dict[str, Any] = json.loads(msg.data)
        if frame.get("type") == "message":
            self.received.add(str(frame.get("id")))
        return frame

    async def replies(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The next ``count`` bot messages; acks and errors are collected on the side."""
        found, self.buffered = self.buffered[:count], self.buffered[count:]
        async with asyncio.timeout(timeout):
            while len(found) < count:
                frame = await self.next_frame(timeout)
                if frame["type"] == "message":
                    found.append(frame)
                elif frame["type"] == "ack":
                    self.acks.append(frame["id"])
                elif frame["type"] == "error":
                    self.errors.append(frame)
        return found

    async def messages_with_ids(
        self, ids: Collection[str], timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """The bot messages whose frame ``id`` is one of ``ids`` (``msg-<message id>``, the
        outbox's key), in arrival order, once all have come; other messages stay buffered."""
        wanted = set(ids)
        found = [frame for frame in self.buffered if frame["id"] in wanted]
        self.buffered = [frame for frame in self.buffered if frame["id"] not in wanted]
        missing = wanted - {frame["id"] for frame in found}
        async with asyncio.timeout(timeout):
            while missing:
                frame = await self.next_frame(timeout)
                if frame["type"] == "message" and frame["id"] in missing:
                    missing.discard(frame["id"])
                    found.append(frame)
                elif frame["type"] == "message":
                    self.buffered.append(frame)
                elif frame["type"] == "ack":
                    self.acks.append(frame["id"])
                elif frame["type"] == "error":
                    self.errors.append(frame)
        return found

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Bot messages that arrive within ``seconds``; used to show none come."""
        found: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    frame = await self.next_frame(seconds)
                    if frame["type"] == "message":
                        found.append(frame)
                    elif frame["type"] == "ack":
                        self.acks.append(frame["id"])
        except TimeoutError:
            pass
        return found

    async def close(self) -> None:
        await self.ws.close()


async def answers(
    chat: ChatClient, hub: Hub, text: str, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """Say ``text``; every bot message answering it (``reply_to``), however late each comes.

    Nothing is guessed from a quiet spell: once ``hub`` has settled (tests/settle.py), the
    outbox says which replies it sent for this message, and exactly those are read."""
    message_id = await chat.say(text)
    await chat.acknowledged(message_id, timeout)
    await settled(hub, timeout)
    return await chat.messages_with_ids(await _sent_replies(hub, chat, message_id), timeout)


async def unread(chat: ChatClient, hub: Hub, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Bot messages sent to this visitor that had not arrived yet: what ``quiet`` finds,
    known instead of waited for. Once ``hub`` has settled, the outbox says what it sent
    to the visitor (from any process sharing the database); exactly those are read."""
    await settled(hub, timeout)
    query = (
        sa.select(outbox.c.message_id)
        .join(conversations, conversations.c.id == outbox.c.conversation_id)
        .where(
            outbox.c.channel == "webchat",
            outbox.c.status == outbox_store.SENT,
            conversations.c.address == chat.session,
        )
    )
    async with hub.db.engine.connect() as conn:
        sent = [f"msg-{row.message_id}" for row in await conn.execute(query)]
    return await chat.messages_with_ids([i for i in sent if i not in chat.received], timeout)


async def _sent_replies(hub: Hub, chat: ChatClient, message_id: str) -> list[str]:
    """The frame ids (``msg-<id>``) of the replies the outbox sent to ``message_id``."""
    inbound = (
        sa.select(messages.c.id)
        .where(
            messages.c.channel == "webchat",
            messages.c.direction == "inbound",
            messages.c.provider_message_id == f"{chat.session}:{message_id}",
        )
        .scalar_subquery()
    )
    query = (
        sa.select(outbox.c.message_id)
        .join(messages, messages.c.id == outbox.c.message_id)
        .where(messages.c.reply_to_id == inbound, outbox.c.status == outbox_store.SENT)
    )
    async with hub.db.engine.connect() as conn:
        return [f"msg-{row.message_id}" for row in await conn.execute(query)]


class Citizen:
    """A citizen on the web chat who reads one reply per message unless told otherwise."""

    def __init__(self, chat: ChatClient) -> None:
        self.chat = chat

    async def say(self, text: str, count: int = 1) -> list[dict[str, Any]]:
        await self.chat.say(text)
        return await self.chat.replies(count)

    async def choose(self, payload: str, count: int = 1) -> list[dict[str, Any]]:
        await self.chat.choose(payload)
        return await self.chat.replies(count)

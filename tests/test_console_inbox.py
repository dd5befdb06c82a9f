"""The officers' inbox through the real app: handoff, claim, reply, release, close,
the live event stream (one process and two on Redis), the gate and escaping.

Citizens are real: a Telegram user whose recorded updates are posted to the webhook
(the reply reaches the fake Bot API through python-telegram-bot), or a web chat
visitor on the websocket. Officers are aiohttp clients with their own cookie jars.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientResponse, ClientSession, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application

from hub.addresses import mask_address
from hub.app import HUB, Hub, create_app
from hub.config import Settings
from hub.console import CONSOLE_PREFIX, CONTEXT
from hub.console.accounts import OfficerAccounts
from hub.console.events import EVENTS
from hub.console.inbox_view import web_url
from hub.console.passwords import Passwords
from hub.store import audit as audit_store
from hub.store.tables import conversations, outbox
from tests.apps import mounted
from tests.chat_client import ChatClient
from tests.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.settle import settled
from tests.test_console_auth import FORM_TOKEN, META_CSRF, PASSWORD, START
from tests.test_telegram import CHAT, SECRET, load

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

ASK_FOR_A_PERSON = "mau bicara dengan petugas"
HANDED_OVER = "Baik, percakapan ini saya teruskan ke petugas."


# --- helpers ----------------------------------------------------------------------------------


class Desk:
    """One officer's browser: own cookies, logs in through the form, knows the CSRF token."""

    def __init__(self, http: Any) -> None:
        self.http = http
        self.csrf = ""

    @classmethod
    def on(cls, client: TestClient[Any, Any]) -> Desk:
        """A second browser on the same server (the test client is the first)."""
        jar = CookieJar(unsafe=True)
        return cls(ClientSession(base_url=str(client.make_url("")), cookie_jar=jar))

    async def login(self, username: str) -> None:
        page = await self.http.get("/console/login")
        token = FORM_TOKEN.search(await page.text())
        assert token is not None
        data = {"username": username, "password": PASSWORD, "form_token": token.group(1)}
        response = await self.http.post("/console/login", data=data, allow_redirects=False)
        assert response.status == 303, await response.text()
        home = await self.http.get("/console/")
        match = META_CSRF.search(await home.text())
        assert match is not None
        self.csrf = match.group(1)

    async def act(self, conversation_id: int, action: str, **form: str) -> ClientResponse:
        """Post the page's form for ``action`` (claim, reply, release, close)."""
        data = {"csrf_token": self.csrf, **form}
        response: ClientResponse = await self.http.post(
            f"/console/conversations/{conversation_id}/{action}", data=data, allow_redirects=False
        )
        return response

    async def inbox(self) -> list[dict[str, Any]]:
        response = await self.http.get("/console/api/inbox")
        assert response.status == 200
        rows: list[dict[str, Any]] = (await response.json())["conversations"]
        return rows

    async def history(self, conversation_id: int) -> dict[str, Any]:
        response = await self.http.get(f"/console/api/conversations/{conversation_id}/messages")
        assert response.status == 200
        data: dict[str, Any] = await response.json()
        return data

    async def page(self, conversation_id: int) -> str:
        response = await self.http.get(f"/console/conversations/{conversation_id}")
        assert response.status == 200
        return str(await response.text())

    async def close(self) -> None:
        if isinstance(self.http, ClientSession):
            await self.http.close()


async def add_officer(
    app: Application, username: str, role: str = "officer", name: str = ""
) -> int:
    accounts = OfficerAccounts(
        app[HUB].db, Passwords(), mounted(app, CONSOLE_PREFIX)[CONTEXT].clock
    )
    record = await accounts.add(
        username, role=role, password=PASSWORD, display_name=name, known_agencies=set()
    )
    return record.id


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    """The first truthy result of ``check``, polled until ``timeout``."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


async def waiting_row(desk: Desk) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        rows = await desk.inbox()
        return rows[0] if rows else None

    row: dict[str, Any] = await eventually(found)
    return row


async def status_of(hub: Hub, conversation_id: int) -> str:
    async with hub.db.engine.connect() as conn:
        return str(
            await conn.scalar(
                sa.select(conversations.c.status).where(conversations.c.id == conversation_id)
            )
        )


async def audit_trail(hub: Hub) -> list[tuple[str, str, dict[str, Any]]]:
    async with hub.db.engine.connect() as conn:
        events = await audit_store.recent(conn, 100)
    return [
        (e.action, str(e.target_id), dict(e.detail))
        for e in reversed(events)
        if e.action.startswith("conversation_")
    ]


async def read_event(
    response: ClientResponse, wanted: Callable[[dict[str, Any]], bool], timeout: float = 15.0
) -> dict[str, Any]:
    """Read ``data:`` lines of an event stream until one ``wanted`` arrives."""
    async with asyncio.timeout(timeout):
        while True:
            line = (await response.content.readline()).decode()
            assert line, "the stream ended"
            if line.startswith("data: "):
                event: dict[str, Any] = json.loads(line[len("data: ") :])
                if wanted(event):
                    return event


async def open_stream(http: Any) -> ClientResponse:
    response: ClientResponse = await http.get(
        "/console/api/events", headers={"Accept": "text/event-stream"}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-store"
    assert (await response.content.readline()).startswith(b"retry: ")
    assert await response.content.readline() == b": ready\n"
    assert await response.content.readline() == b"\n"
    return response


# --- Telegram -------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


class TelegramCitizen:
    """Made Wirawan on Telegram, through the real webhook with recorded updates."""

    def __init__(self, client: TestClient[Any, Any], fake: FakeTelegram) -> None:
        self.client = client
        self.fake = fake
        self.update_id = 873200101
        self.message_id = 1365

    async def say(self, text: str) -> None:
        update = load("text")
        self.update_id += 1
        self.message_id += 1
        update["update_id"] = self.update_id
        update["message"]["message_id"] = self.message_id
        update["message"]["text"] = text
        response = await self.client.post(
            "/webhooks/telegram",
            data=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            },
        )
        assert response.status == 200

    def sent(self) -> list[str]:
        return [str(call.params["text"]) for call in self.fake.calls("sendMessage")]

    async def answered(self, count: int) -> list[str]:
        await self.fake.wait_for("sendMessage", count)
        return self.sent()


async def test_a_telegram_handoff_is_claimed_answered_released_and_closed(
    db_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake: FakeTelegram,
) -> None:
    telegram = {
        "enabled": True,
        "token": fake.token,
        "secret_token": SECRET,
        "api_base_url": fake.url,
    }
    client = await aiohttp_client(
        create_app(make_settings(db_url, channels={"telegram": telegram}), clock=Clock(START))
    )
    hub = client.app[HUB]
    made_id = await add_officer(client.app, "made", name="Made Sudarsana")
    await add_officer(client.app, "ketut", name="Ketut Ayu")
    made, ketut = Desk(client), Desk.on(client)
    await made.login("made")
    await ketut.login("ketut")
    citizen = TelegramCitizen(client, fake)

    # The citizen asks for a person: the bot says so and steps aside.
    await citizen.say(ASK_FOR_A_PERSON)
    (answer,) = await citizen.answered(1)
    assert answer.startswith(HANDED_OVER)
    row = await waiting_row(made)
    conversation_id = row["id"]
    assert row["name"] == "Made Wirawan"
    assert (row["channel"], row["channel_label"]) == ("telegram", "Telegram")
    assert row["address"] == "•••• " + CHAT[-4:]
    assert (row["status"], row["reason"], row["reason_label"]) == (
        "handoff",
        "asked",
        "Warga minta petugas",
    )
    assert row["last_text"] == ASK_FOR_A_PERSON
    assert row["claimed_by"] is None and row["waiting_since"]
    listing = await (await made.http.get("/console/")).text()
    assert "Made Wirawan" in listing and CHAT not in listing
    assert CHAT not in await made.page(conversation_id)

    # Made claims it; Ketut is too late.
    claimed = await made.act(conversation_id, "claim")
    assert claimed.status == 303
    assert claimed.headers["Location"] == f"/console/conversations/{conversation_id}"
    assert await status_of(hub, conversation_id) == "officer"
    late = await ketut.act(conversation_id, "claim")
    assert late.status == 409
    assert "sudah diambil petugas lain" in await late.text()
    late_json = await ketut.http.post(
        f"/console/conversations/{conversation_id}/claim",
        headers={"X-CSRF-Token": ketut.csrf, "Accept": "application/json"},
    )
    assert late_json.status == 409
    assert (await late_json.json())["error"]["code"] == "conflict"
    assert (await ketut.act(conversation_id, "reply", text="Saya bantu")).status == 403
    assert (await ketut.act(conversation_id, "close")).status == 403
    (row,) = await made.inbox()
    assert (row["status"], row["claimed_by"], row["claimed_by_name"]) == (
        "officer",
        made_id,
        "Made Sudarsana",
    )

    # Made's reply leaves on Telegram, to the citizen's chat.
    replied = await made.act(conversation_id, "reply", text="  Baik, kami bantu.  ")
    assert replied.status == 303
    _, officer_message = await citizen.answered(2)
    assert officer_message == "Baik, kami bantu."
    assert fake.calls("sendMessage")[1].params["chat_id"] == CHAT

    async def delivered() -> dict[str, Any] | None:
        found = [
            m for m in (await made.history(conversation_id))["messages"] if m["author"] != "bot"
        ]
        last = found[-1]
        return last if last.get("delivery_status") == "sent" else None

    message = await eventually(delivered)
    assert message["author"] == f"officer:{made_id}"
    assert message["author_label"] == "Petugas Made Sudarsana"
    assert (message["text"], message["direction"]) == ("Baik, kami bantu.", "outbound")
    assert (message["delivery_status"], message["delivery_label"]) == ("sent", "Terkirim")
    html = await made.page(conversation_id)
    assert "Petugas Made Sudarsana" in html and "Terkirim" in html

    # The citizen answers: the officers see it, the bot keeps quiet.
    await citizen.say("Terima kasih, saya tunggu")

    async def citizen_wrote() -> bool:
        texts = [str(m["text"]) for m in (await made.history(conversation_id))["messages"]]
        return texts[-1] == "Terima kasih, saya tunggu"

    await eventually(citizen_wrote)
    await settled(hub)
    assert len(citizen.sent()) == 2, "no bot answer while an officer holds the chat"
    labels = [m["author_label"] for m in (await made.history(conversation_id))["messages"]]
    assert labels == ["Warga", "Bot", "Petugas Made Sudarsana", "Warga"]

    # Back to the bot: it answers again.
    released = await made.act(conversation_id, "release")
    assert (released.status, released.headers["Location"]) == (303, "/console/")
    assert await status_of(hub, conversation_id) == "bot"
    assert await made.inbox() == []
    await citizen.say("halo")
    assert len(await citizen.answered(4)) >= 4, "greeting and menu from the bot"

    # Asked again, and this time closed.
    await citizen.say(ASK_FOR_A_PERSON)
    assert (await waiting_row(made))["id"] == conversation_id
    closed = await made.act(conversation_id, "close")
    assert closed.status == 303
    assert await status_of(hub, conversation_id) == "closed"
    assert await made.inbox() == []
    assert (await made.act(conversation_id, "close")).status == 409

    target = str(conversation_id)
    assert await audit_trail(hub) == [
        ("conversation_claimed", target, {}),
        ("conversation_replied", target, {"length": len("Baik, kami bantu.")}),
        ("conversation_released", target, {}),
        ("conversation_closed", target, {}),
    ]
    await ketut.close()


# --- the web chat citizen, the gate, permissions ----------------------------------------------


async def webchat_handoff(client: TestClient[Any, Any], first: str = "") -> ChatClient:
    """A web chat visitor who (after ``first``, if given) asks for a person."""
    chat = await ChatClient.connect(client)
    if first:
        await chat.say(first)
        await chat.replies(2)
    await chat.say(ASK_FOR_A_PERSON)
    (handoff,) = await chat.replies(1)
    assert handoff["text"].startswith(HANDED_OVER)
    return chat


async def console_app(
    aiohttp_client: AiohttpClient, settings: Settings
) -> tuple[TestClient[Any, Any], Hub]:
    client = await aiohttp_client(create_app(settings, clock=Clock(START)))
    return client, client.app[HUB]


async def test_without_a_session_every_inbox_route_is_refused(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client, _hub = await console_app(aiohttp_client, make_settings())
    for path in ("/console/", "/console/conversations/1"):
        page = await client.get(path, allow_redirects=False)
        assert page.status == 303 and page.headers["Location"].startswith("/console/login"), path
    deep = await client.get("/console/conversations/1", allow_redirects=False)
    assert deep.headers["Location"] == "/console/login?next=%2Fconsole%2Fconversations%2F1"
    for path in (
        "/console/api/inbox",
        "/console/api/conversations/1/messages",
        "/console/api/events",
    ):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 401, path
        assert (await response.json())["error"]["code"] == "unauthorized"
    for action in ("claim", "reply", "release", "close"):
        path = f"/console/conversations/1/{action}"
        form = await client.post(path, data={"text": "x"}, allow_redirects=False)
        assert (form.status, form.headers["Location"]) == (303, "/console/login"), path
        xhr = await client.post(path, headers={"X-Requested-With": "XMLHttpRequest"})
        assert xhr.status == 401, path


async def test_without_the_csrf_token_nothing_changes(
    db_url: str, aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client, hub = await console_app(aiohttp_client, make_settings(db_url))
    await add_officer(client.app, "made")
    made = Desk(client)
    await made.login("made")
    chat = await webchat_handoff(client)
    conversation_id = (await waiting_row(made))["id"]

    for action in ("claim", "reply", "release", "close"):
        path = f"/console/conversations/{conversation_id}/{action}"
        bare = await client.post(path, data={"text": "Halo"}, allow_redirects=False)
        assert bare.status == 403, action
        forged = await client.post(
            path, data={"text": "Halo", "csrf_token": "forged"}, allow_redirects=False
        )
        assert forged.status == 403, action
    assert await status_of(hub, conversation_id) == "handoff"
    assert await audit_trail(hub) == []
    async with hub.db.engine.connect() as conn:
        queued = await conn.scalar(sa.select(sa.func.count()).select_from(outbox))
    assert queued == 1, "only the bot's handoff message"

    # The same actions with the token work, each audited.
    assert (await made.act(conversation_id, "claim")).status == 303
    xhr = await client.post(
        f"/console/conversations/{conversation_id}/reply",
        json={"text": "Halo dari petugas"},
        headers={"X-CSRF-Token": made.csrf, "X-Requested-With": "XMLHttpRequest"},
    )
    assert xhr.status == 200
    body = await xhr.json()
    assert body["conversation"]["status"] == "officer"
    assert body["messages"][-1]["text"] == "Halo dari petugas"
    (reply,) = await chat.replies(1)
    assert reply["text"] == "Halo dari petugas"
    assert [a for a, _, _ in await audit_trail(hub)] == [
        "conversation_claimed",
        "conversation_replied",
    ]
    await chat.close()


async def test_who_may_do_what_and_bad_replies(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client, hub = await console_app(aiohttp_client, make_settings())
    await add_officer(client.app, "made")
    await add_officer(client.app, "ketut")
    await add_officer(client.app, "sari", "supervisor", name="Bu Sari")
    made, ketut, sari = Desk(client), Desk.on(client), Desk.on(client)
    for desk, name in ((made, "made"), (ketut, "ketut"), (sari, "sari")):
        await desk.login(name)
    chat = await webchat_handoff(client)
    conversation_id = (await waiting_row(made))["id"]

    unclaimed = await made.act(conversation_id, "reply", text="Halo")
    assert unclaimed.status == 409 and "Ambil percakapan ini dulu" in await unclaimed.text()
    page = await made.page(conversation_id)
    assert 'id="claim"' in page and 'id="reply-form"' not in page
    assert (await made.act(conversation_id, "claim")).status == 303
    assert (await made.act(conversation_id, "claim")).status == 303, "claiming twice is fine"
    page = await made.page(conversation_id)
    assert 'id="claim"' not in page and 'id="reply-form"' in page
    assert 'id="reply-form"' not in await ketut.page(conversation_id)

    empty = await made.act(conversation_id, "reply", text="   ")
    assert empty.status == 400 and "Balasan kosong" in await empty.text()
    long_text = "x" * 4001
    too_long = await made.act(conversation_id, "reply", text=long_text)
    assert too_long.status == 400 and "terlalu panjang" in await too_long.text()
    assert long_text in await too_long.text(), "the officer's text is kept in the form"
    missing = await made.act(999999, "claim")
    assert missing.status == 404

    # A supervisor may step into a colleague's conversation.
    assert (await sari.act(conversation_id, "reply", text="Dari supervisor")).status == 303
    (reply,) = await chat.replies(1)
    assert reply["text"] == "Dari supervisor"
    history = await sari.history(conversation_id)
    assert history["messages"][-1]["author_label"] == "Petugas Bu Sari"
    assert (await ketut.act(conversation_id, "release")).status == 403
    assert (await sari.act(conversation_id, "release")).status == 303
    assert await status_of(hub, conversation_id) == "bot"
    for desk in (ketut, sari):
        await desk.close()
    await chat.close()


async def test_a_citizens_markup_is_shown_as_text(
    db_url: str, aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client, _hub = await console_app(aiohttp_client, make_settings(db_url))
    await add_officer(client.app, "made")
    made = Desk(client)
    await made.login("made")
    chat = await webchat_handoff(client)
    conversation_id = (await waiting_row(made))["id"]
    await chat.say("<script>alert(1)</script>")

    async def arrived() -> bool:
        rows = await made.inbox()
        return bool(rows) and str(rows[0]["last_text"]) == "<script>alert(1)</script>"

    await eventually(arrived)
    for html in (await made.page(conversation_id), await (await client.get("/console/")).text()):
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    await chat.close()


def test_addresses_are_masked_and_only_web_links_are_links() -> None:
    assert mask_address("+6281234567890") == "•••• 7890"
    assert mask_address("123") == "••••"
    assert mask_address("budi.santoso@example.co.id") == "bu••••@example.co.id"
    assert web_url("https://example.org/a.jpg") == "https://example.org/a.jpg"
    for bad in ("javascript:alert(1)", "telegram:file-id", "//evil.example/x", "data:x", ""):
        assert web_url(bad) == "", bad


# --- live news ----------------------------------------------------------------------------


async def test_the_event_stream_brings_handoffs_and_messages(
    db_url: str, aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client, _hub = await console_app(aiohttp_client, make_settings(db_url))
    await add_officer(client.app, "made")
    made = Desk(client)
    await made.login("made")
    mounted(client.app, CONSOLE_PREFIX)[EVENTS].heartbeat_seconds = 0.2
    stream = await open_stream(client)
    assert await asyncio.wait_for(stream.content.readline(), 5) == b": ping\n"

    chat = await webchat_handoff(client)
    event = await read_event(stream, lambda e: e["type"] == "handoff")
    conversation_id = (await made.inbox())[0]["id"]
    assert event == {"type": "handoff", "conversation_id": conversation_id, "reason": "asked"}
    await chat.say("ada yang bisa bantu?")
    event = await read_event(stream, lambda e: e["type"] == "message")
    assert event["conversation_id"] == conversation_id
    await made.act(conversation_id, "claim")
    event = await read_event(stream, lambda e: e["type"] == "conversation")
    assert event == {
        "type": "conversation",
        "conversation_id": conversation_id,
        "status": "officer",
    }

    # A stream does not outlive its session: logging out ends it at the next heartbeat.
    logout = await client.post(
        "/console/logout", data={"csrf_token": made.csrf}, allow_redirects=False
    )
    assert logout.status == 303
    async with asyncio.timeout(5):
        while await stream.content.readline():
            pass
    await eventually(lambda: _no_streams(client), timeout=5)
    assert (await client.get("/console/api/events")).status == 401
    await chat.close()


async def _no_streams(client: TestClient[Any, Any]) -> bool:
    return len(mounted(client.app, CONSOLE_PREFIX)[EVENTS]) == 0


async def test_shutdown_ends_open_streams_at_once(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await add_officer(app, "made")
    async with ClientSession(
        base_url=str(server.make_url("")), cookie_jar=CookieJar(unsafe=True)
    ) as http:
        desk = Desk(http)
        await desk.login("made")
        stream = await open_stream(http)
        assert len(mounted(app, CONSOLE_PREFIX)[EVENTS]) == 1
        started = time.monotonic()
        await asyncio.wait_for(server.close(), 10)
        assert time.monotonic() - started < 5, "the open stream did not hold the server up"
        assert await asyncio.wait_for(stream.content.read(), 5) == b""


async def test_a_handoff_in_one_process_reaches_the_console_of_another(
    pg_url: str,
    hub_redis_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(pg_url, redis={"url": hub_redis_url})
    first, _hub = await console_app(aiohttp_client, settings)
    second = await aiohttp_client(create_app(settings, clock=Clock(START)))
    await add_officer(first.app, "made")
    made = Desk(first)
    await made.login("made")
    stream = await open_stream(first)

    chat = await webchat_handoff(second)  # the citizen's socket lives in the other process
    event = await read_event(stream, lambda e: e["type"] == "handoff")
    (row,) = await made.inbox()
    assert event["conversation_id"] == row["id"] and row["status"] == "handoff"
    stream.close()  # the browser goes away: the stream ends and leaves Redis
    await eventually(lambda: _no_streams(first), timeout=5)
    await chat.close()

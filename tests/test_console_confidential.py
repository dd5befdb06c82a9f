"""Confidential and anonymous CARE reports stay so in every view of the console.

Citizens are real Telegram users whose updates go through the webhook; they file
their complaint in the chat and then ask for a person, so their conversation waits
in the officers' inbox. Officers (one of the ticket's agency, one tied to none) and
a supervisor are separate browsers. What must not leak is looked for in every
answer: the complaint's words, the follow-up written to the officers, the citizen's
name and their Telegram chat id.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.care.access import SYSTEM
from hub.care.service import TicketKind
from hub.config import Settings
from hub.console.accounts import OfficerAccounts
from hub.console.inbox_view import ANONYMOUS_NAME, CONFIDENTIAL_PREVIEW, RESTRICTED_NAME
from hub.console.passwords import Passwords
from hub.coordination.live import announce
from hub.store import audit as audit_store
from hub.store.tables import conversations, messages, outbox
from hub.store.tickets import TicketRecord
from tests.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.test_console_auth import AGENCIES, PASSWORD, START
from tests.test_console_inbox import Desk, open_stream
from tests.test_telegram import SECRET, load

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

STORY = "mau komplain petugas loket paspor lama banget"
SECRET_WORDS = "petugas loket 3 minta uang pelicin lima ratus ribu"
"""Written to the officers after the confidential complaint: the conversation's secret."""
ANONYMOUS_WORDS = "tolong dibantu soal antrean paspor tadi"
OLD_EMAIL = "Salam hormat, Ni Luh Sari, Jalan Nangka 7 Denpasar"
"""An anonymous reporter's earlier e-mail, in another conversation: it says who she is."""
HANDED_OVER = "Baik, percakapan ini saya teruskan ke petugas."


# --- citizens on Telegram ---------------------------------------------------------------------


class Citizen:
    """A Telegram user with their own chat, through the real webhook."""

    def __init__(
        self, client: TestClient[Any, Any], fake: FakeTelegram, chat: int, first: str, last: str
    ) -> None:
        self.client, self.fake = client, fake
        self.chat, self.first, self.last = chat, first, last
        self.update_id = chat % 1_000_000 * 100
        self.message_id = 1

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def sent(self) -> list[str]:
        return [
            str(call.params["text"])
            for call in self.fake.calls("sendMessage")
            if str(call.params["chat_id"]) == str(self.chat)
        ]

    async def say(self, text: str, replies: int = 1) -> list[str]:
        """Send ``text``; the bot's next ``replies`` messages to this chat."""
        before = len(self.sent())
        update = load("text")
        self.update_id += 1
        self.message_id += 1
        update["update_id"] = self.update_id
        message = update["message"]
        message["message_id"] = self.message_id
        message["text"] = text
        for who in (message["from"], message["chat"]):
            who.update(id=self.chat, first_name=self.first, last_name=self.last)
            who["username"] = (self.first + self.last).lower().replace(" ", "")
        response = await self.client.post(
            "/webhooks/telegram",
            data=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            },
        )
        assert response.status == 200
        async with asyncio.timeout(15):
            while len(self.sent()) < before + replies:
                await asyncio.sleep(0.02)
        return self.sent()[before : before + replies]

    async def file(self, privacy: str) -> None:
        """A complaint about the passport counters, ``rahasia`` or ``anonim``."""
        [when] = await self.say(STORY)
        assert when.startswith("Kapan dan di mana kejadiannya?"), when
        await self.say("-")
        [asked] = await self.say("tidak ada")
        assert asked.startswith("Bagaimana pengaduan ini ditangani?"), asked
        await self.say(privacy)
        [filed] = await self.say("ya")
        assert "Nomor tiket" in filed, filed

    async def ask_for_an_officer(self) -> None:
        [answer] = await self.say("mau bicara dengan petugas")
        assert answer.startswith(HANDED_OVER), answer


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


# --- the hub and its officers -----------------------------------------------------------------


class Mall:
    """The app, its officers' browsers and what the test needs to look at."""

    def __init__(self, client: TestClient[Any, Any], clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self.hub: Hub = client.app[HUB]
        self.ids: dict[str, int] = {}
        self.desks: dict[str, Desk] = {}

    async def officer(self, username: str, role: str = "officer", *agencies: str) -> Desk:
        accounts = OfficerAccounts(self.hub.db, Passwords(), self.clock)
        record = await accounts.add(
            username,
            role=role,
            password=PASSWORD,
            display_name=username.title(),
            agencies=agencies,
            known_agencies=AGENCIES,
        )
        self.ids[username] = record.id
        desk = Desk.on(self.client)
        await desk.login(username)
        self.desks[username] = desk
        return desk

    async def close(self) -> None:
        for desk in self.desks.values():
            await desk.close()

    async def ticket(self, conversation_id: int) -> TicketRecord:
        """The one ticket filed in this conversation."""
        [ticket] = [
            t for t in await self.hub.care.search(SYSTEM) if t.conversation_id == conversation_id
        ]
        return ticket

    async def conversation_of(self, chat: int) -> int:
        async with self.hub.db.engine.connect() as conn:
            found = await conn.scalar(
                sa.select(conversations.c.id).where(conversations.c.address == str(chat))
            )
        assert found is not None
        return int(found)

    async def audit(self, username: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(action, target kind, target id, detail) of one officer, oldest first."""
        async with self.hub.db.engine.connect() as conn:
            events = await audit_store.recent(conn, 500, officer_id=self.ids[username])
        return [(e.action, e.target_kind, e.target_id, e.detail) for e in reversed(events)]

    async def outbox_size(self) -> int:
        async with self.hub.db.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0)

    async def status(self, conversation_id: int) -> str:
        async with self.hub.db.engine.connect() as conn:
            return str(
                await conn.scalar(
                    sa.select(conversations.c.status).where(conversations.c.id == conversation_id)
                )
            )


async def open_mall(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake: FakeTelegram,
    url: str | None = None,
) -> Mall:
    telegram = {
        "enabled": True,
        "token": fake.token,
        "secret_token": SECRET,
        "api_base_url": fake.url,
    }
    settings = make_settings(url, channels={"telegram": telegram}, scheduler={"enabled": False})
    clock = Clock(START)
    client = await aiohttp_client(create_app(settings, clock=clock))
    return Mall(client, clock)


async def get(desk: Desk, path: str, *, as_json: bool = False) -> tuple[int, str]:
    headers = {"Accept": "application/json"} if as_json else {}
    response = await desk.http.get(path, headers=headers, allow_redirects=False)
    return response.status, str(await response.text())


def assert_hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, (secret, text[:2000])


# --- confidential -----------------------------------------------------------------------------


async def test_a_confidential_reporters_conversation_is_for_supervisors_and_every_read_is_audited(
    db_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake: FakeTelegram,
) -> None:
    mall = await open_mall(aiohttp_client, make_settings, fake, db_url)
    made = Citizen(mall.client, fake, 5012345678, "Made", "Wirawan")
    await made.file("rahasia saja")
    await made.ask_for_an_officer()
    conversation_id = await mall.conversation_of(made.chat)
    await made.say(SECRET_WORDS, replies=0)
    ticket = await mall.ticket(conversation_id)
    assert ticket.confidential and not ticket.anonymous
    secrets = (STORY, SECRET_WORDS, made.name, "Wirawan", str(made.chat), str(made.chat)[-4:])

    wayan = await mall.officer("wayan", "officer", "imigrasi")  # the ticket's own agency
    putu = await mall.officer("putu")  # tied to no agency: sees every agency's tickets
    ketut = await mall.officer("ketut", "supervisor")
    outbox_before = await mall.outbox_size()

    for username, desk in (("wayan", wayan), ("putu", putu)):
        # The inbox says a supervisor must take it, and nothing else.
        [row] = await desk.inbox()
        assert row["id"] == conversation_id
        assert (row["name"], row["address"], row["last_text"]) == (RESTRICTED_NAME, "", "")
        assert (row["confidential"], row["readable"]) == (True, False)
        status, listing = await get(desk, "/console/")
        assert status == 200 and RESTRICTED_NAME in listing
        assert_hidden(json.dumps(row, ensure_ascii=False) + listing, *secrets)

        # The conversation, its JSON and its actions are refused.
        status, text = await get(desk, f"/console/conversations/{conversation_id}")
        assert status == 403
        assert_hidden(text, *secrets)
        api = f"/console/api/conversations/{conversation_id}/messages"
        status, text = await get(desk, api, as_json=True)
        assert status == 403 and json.loads(text)["error"]["code"] == "forbidden"
        assert_hidden(text, *secrets)
        claimed = await desk.act(conversation_id, "claim")
        assert claimed.status == 403
        assert_hidden(await claimed.text(), *secrets)
        replied = await desk.act(conversation_id, "reply", text="Saya bantu, Pak.")
        assert replied.status == 403
        assert (await desk.act(conversation_id, "close")).status == 403

        # The ticket page shows neither its content nor who filed it; opening it is audited.
        status, text = await get(desk, f"/console/tickets/{ticket.ticket_id}")
        assert status == 200
        assert_hidden(text, *secrets)

        assert [(a, k, t) for a, k, t, _d in await mall.audit(username)][-6:] == [
            ("conversation_read_refused", "conversation", str(conversation_id)),
            ("conversation_read_refused", "conversation", str(conversation_id)),
            ("conversation_claim_refused", "conversation", str(conversation_id)),
            ("conversation_reply_refused", "conversation", str(conversation_id)),
            ("conversation_close_refused", "conversation", str(conversation_id)),
            ("ticket_read_refused", "ticket", ticket.ticket_id),
        ]
    assert await mall.status(conversation_id) == "handoff"
    assert await mall.outbox_size() == outbox_before, "no officer's reply left"

    # The supervisor sees the citizen in the list, reads the conversation on its page
    # (audited once however often the page refreshes itself) and answers.
    [row] = await ketut.inbox()
    assert (row["name"], row["address"]) == (made.name, "•••• " + str(made.chat)[-4:])
    assert row["last_text"] == CONFIDENTIAL_PREVIEW and row["readable"] is True
    assert SECRET_WORDS not in json.dumps(row, ensure_ascii=False), "read it on the page"
    page = await ketut.page(conversation_id)
    assert SECRET_WORDS in page and made.name in page
    assert 'id="confidential-notice"' in page
    history = await ketut.history(conversation_id)
    assert {STORY, SECRET_WORDS} <= {m["text"] for m in history["messages"]}
    assert history["whole_history"] is True
    assert (await ketut.act(conversation_id, "claim")).status == 303
    assert (await ketut.act(conversation_id, "reply", text="Kami tindak lanjuti.")).status == 303
    [_reply] = await asyncio.wait_for(_answered(made, "Kami tindak lanjuti."), 15)
    status, text = await get(ketut, f"/console/tickets/{ticket.ticket_id}")
    assert status == 200 and made.name in text and "lama banget" in text

    reads = [
        (a, t, d)
        for a, _k, t, d in await mall.audit("ketut")
        if a in ("conversation_read", "ticket_read")
    ]
    assert reads == [
        ("conversation_read", str(conversation_id), {"confidential": True, "anonymous": False}),
        ("ticket_read", ticket.ticket_id, {"confidential": True, "anonymous": False}),
    ]
    # After the window, the next read is a new entry.
    mall.clock.advance(minutes=6)
    await ketut.history(conversation_id)
    actions = [a for a, *_rest in await mall.audit("ketut")]
    assert actions.count("conversation_read") == 2
    await mall.close()


async def _answered(citizen: Citizen, text: str) -> list[str]:
    while text not in citizen.sent():
        await asyncio.sleep(0.02)
    return [text]


async def test_an_officer_may_not_take_over_a_conversation_they_held_once_it_becomes_confidential(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake: FakeTelegram
) -> None:
    """The contact files a confidential ticket on another channel while an officer holds
    their Telegram conversation: from then on that officer may neither read nor answer it."""
    mall = await open_mall(aiohttp_client, make_settings, fake)
    made = Citizen(mall.client, fake, 5012345678, "Made", "Wirawan")
    await made.ask_for_an_officer()
    conversation_id = await mall.conversation_of(made.chat)
    wayan = await mall.officer("wayan")
    assert (await wayan.act(conversation_id, "claim")).status == 303
    assert made.name in await wayan.page(conversation_id)
    async with mall.hub.db.engine.connect() as conn:
        contact_id = await conn.scalar(
            sa.select(conversations.c.contact_id).where(conversations.c.id == conversation_id)
        )
    await mall.hub.care.file(
        kind=TicketKind.COMPLAINT,
        contact_id=int(contact_id or 0),
        description=SECRET_WORDS,
        service_id="paspor",
        channel="email",
        confidential=True,
    )
    assert (await get(wayan, f"/console/conversations/{conversation_id}"))[0] == 403
    replied = await wayan.act(conversation_id, "reply", text="Masih di sana, Pak?")
    assert replied.status == 403
    assert "Masih di sana, Pak?" not in made.sent()
    assert ("conversation_reply_refused", "conversation", str(conversation_id)) in [
        (a, k, t) for a, k, t, _d in await mall.audit("wayan")
    ]
    await mall.close()


# --- anonymous --------------------------------------------------------------------------------


async def test_an_anonymous_reporter_is_nameless_for_everyone_but_officers_read_the_messages(
    db_url: str,
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake: FakeTelegram,
) -> None:
    mall = await open_mall(aiohttp_client, make_settings, fake, db_url)
    sari = Citizen(mall.client, fake, 5098765432, "Ni Luh", "Sari")
    await sari.file("anonim")
    await sari.ask_for_an_officer()
    conversation_id = await mall.conversation_of(sari.chat)
    await sari.say(ANONYMOUS_WORDS, replies=0)
    ticket = await mall.ticket(conversation_id)
    assert ticket.anonymous and not ticket.confidential

    # She wrote once before by e-mail, signing with her name: another conversation.
    now = datetime.now(UTC)
    async with mall.hub.db.begin() as conn:
        contact_id = await conn.scalar(
            sa.select(conversations.c.contact_id).where(conversations.c.id == conversation_id)
        )
        email = await conn.scalar(
            sa.insert(conversations)
            .values(
                contact_id=contact_id,
                status="closed",
                channel="email",
                address="niluh.sari@example.com",
                locale="id",
                state={},
                created_at=now,
                updated_at=now,
            )
            .returning(conversations.c.id)
        )
        await conn.execute(
            sa.insert(messages).values(
                conversation_id=email,
                direction="inbound",
                channel="email",
                provider_message_id="old-mail-1",
                author="citizen",
                text=OLD_EMAIL,
                attachments=[],
                created_at=now - timedelta(days=30),
                updated_at=now - timedelta(days=30),
            )
        )
    identity = (sari.name, "Sari", str(sari.chat), str(sari.chat)[-4:], OLD_EMAIL, "niluh.sari")

    wayan = await mall.officer("wayan", "officer", "imigrasi")
    ketut = await mall.officer("ketut", "supervisor")
    for username, desk in (("wayan", wayan), ("ketut", ketut)):
        [row] = await desk.inbox()
        assert (row["name"], row["address"]) == (ANONYMOUS_NAME, "")
        assert (row["anonymous"], row["readable"]) == (True, True)
        assert row["last_text"] == ANONYMOUS_WORDS, "officers read the messages"
        status, listing = await get(desk, "/console/")
        assert status == 200
        assert_hidden(json.dumps(row, ensure_ascii=False) + listing, *identity)

        page = await desk.page(conversation_id)
        assert STORY in page and ANONYMOUS_WORDS in page
        assert_hidden(page, *identity)
        history = await desk.history(conversation_id)
        assert history["whole_history"] is False
        assert {m["conversation_id"] for m in history["messages"]} == {conversation_id}
        assert STORY in {m["text"] for m in history["messages"]}
        assert_hidden(json.dumps(history, ensure_ascii=False), *identity)

        status, text = await get(desk, f"/console/tickets/{ticket.ticket_id}")
        assert status == 200 and "Anonim: identitas pelapor tidak ditampilkan." in text
        assert_hidden(text, *identity)
        reads = [(a, t, d) for a, _k, t, d in await mall.audit(username)]
        assert (
            "conversation_read",
            str(conversation_id),
            {"confidential": False, "anonymous": True},
        ) in reads
        assert (
            "ticket_read",
            ticket.ticket_id,
            {"confidential": False, "anonymous": True},
        ) in reads

    # Officers still handle it: the answer reaches her chat.
    assert (await wayan.act(conversation_id, "claim")).status == 303
    assert (await wayan.act(conversation_id, "reply", text="Kami bantu.")).status == 303
    await asyncio.wait_for(_answered(sari, "Kami bantu."), 15)
    await mall.close()


# --- the live events ------------------------------------------------------------------------


async def read_events(response: ClientResponse, until: Callable[[dict[str, Any]], bool]) -> str:
    """Everything the stream said until an event ``until`` accepts (the raw text)."""
    seen = ""
    async with asyncio.timeout(15):
        while True:
            line = (await response.content.readline()).decode()
            assert line, "the stream ended"
            seen += line
            if line.startswith("data: ") and until(json.loads(line[len("data: ") :])):
                return seen


async def test_the_event_stream_carries_ids_and_codes_never_a_reporters_words_or_name(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake: FakeTelegram
) -> None:
    mall = await open_mall(aiohttp_client, make_settings, fake)
    wayan = await mall.officer("wayan", "officer", "imigrasi")
    stream = await open_stream(wayan.http)
    made = Citizen(mall.client, fake, 5012345678, "Made", "Wirawan")
    await made.file("rahasia saja")
    await made.ask_for_an_officer()
    conversation_id = await mall.conversation_of(made.chat)
    await made.say(SECRET_WORDS, replies=0)

    def held(event: dict[str, Any]) -> bool:
        return event.get("type") == "message" and event.get("conversation_id") == conversation_id

    seen = await read_events(stream, held)
    assert '"type": "ticket"' in seen and '"type": "handoff"' in seen
    assert_hidden(seen, STORY, SECRET_WORDS, made.name, "Wirawan", str(made.chat))

    # Whatever a publisher puts in, only ids and codes reach the pages.
    await announce(
        mall.hub.coordinator,
        "message",
        conversation_id=conversation_id,
        text=SECRET_WORDS,
        name=made.name,
        status="masih menunggu " + made.name,
    )
    seen = await read_events(stream, held)
    [line] = [x for x in seen.splitlines() if x.startswith("data: ")]
    assert json.loads(line[len("data: ") :]) == {
        "type": "message",
        "conversation_id": conversation_id,
    }
    stream.close()
    await mall.close()

"""A handoff keeps the citizen served: through the real app on the web chat.

A handoff the citizen did not ask for (the bot misunderstood twice) leaves the bot
answering clear requests until an officer claims the conversation; unclear messages
wait for the officer. A request for a supervisor, or an angry one, is handed over at
once. Misses inside a flow do not count toward a handoff. Outside office hours the
citizen is told when officers answer and that the bot stays available.

The hub's clock stands on Monday 30 November 2026, 10:00 WITA unless a test moves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.channels.base import Capabilities
from hub.channels.sms_text import is_gsm7, segments, to_gsm7
from hub.config import Settings
from hub.dialogs.engine import SERVED
from hub.dialogs.person import asks_for_a_person
from hub.model import AddressKind, Reply
from hub.pipeline.render import Renderer
from hub.resources import templates_dir
from hub.store import conversations as conversation_store
from hub.store.inbox import SERVED_KEY
from hub.store.tables import conversations, messages
from tests.chat_client import ChatClient, answers
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.settle import settled
from tests.test_console_inbox import Desk, add_officer
from tests.test_twilio import WEBHOOK, fixture, post, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

WITA = ZoneInfo("Asia/Makassar")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=WITA)
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=WITA)
NOT_UNDERSTOOD = (
    "Maaf, saya belum bisa memahami pesan Anda. Percakapan ini saya teruskan ke petugas."
)
STILL_HERE = 'Sambil menunggu, Anda tetap bisa bertanya kepada saya, misalnya ketik "menu".'


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_settings(), clock=clock))


async def say(client: TestClient[Any, Any], chat: ChatClient, text: str) -> list[str]:
    """Every bot message that answers ``text``, once the hub has settled (none: silence)."""
    return [str(frame["text"]) for frame in await answers(chat, client.app[HUB], text)]


async def row_of(hub: Hub, address: str) -> Any:
    async with hub.db.engine.connect() as conn:
        return (
            await conn.execute(sa.select(conversations).where(conversations.c.address == address))
        ).one()


async def bot_texts(hub: Hub, conversation_id: int) -> list[str]:
    """What the bot said in the conversation, as stored (what the console history shows)."""
    async with hub.db.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(messages.c.text)
            .where(messages.c.conversation_id == conversation_id, messages.c.author == "bot")
            .order_by(messages.c.id)
        )
        return [str(text) for (text,) in rows]


async def misunderstood_twice(chat: ChatClient) -> list[str]:
    """Two misses in a row: the second hands over for ``failures``."""
    await chat.say("asdfgh qwerty")
    await chat.replies(2)  # the fallback and the menu
    await chat.say("xyzzy")
    [handoff] = await chat.replies(1)
    return str(handoff["text"]).splitlines()


async def test_a_misunderstood_citizen_is_still_answered_until_an_officer_claims(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    chat = await ChatClient.connect(client)
    notice = await misunderstood_twice(chat)
    assert notice[0] == NOT_UNDERSTOOD and notice[-1] == STILL_HERE, notice
    row = await row_of(hub, chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "failures")

    menu = await say(client, chat, "menu")
    assert menu and menu[0].startswith("Saya bisa membantu:"), menu
    requirements = await say(client, chat, "syarat ktp")
    assert requirements and requirements[0].startswith("Persyaratan"), requirements
    assert await say(client, chat, "hmmm xyzzy") == [], "an unclear message waits for the officer"

    row = await row_of(hub, chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "failures"), "still waiting"
    stored = await bot_texts(hub, row.id)
    assert menu[0] in stored and requirements[0] in stored, "officers see what the bot said"
    assert sum(NOT_UNDERSTOOD in text for text in stored) == 1, "no second handoff notice"

    async with hub.db.begin() as conn:
        assert await conversation_store.claim(conn, row.id, 7, MONDAY)
    assert await say(client, chat, "menu") == [], "an officer holds it: the bot is silent"
    assert await say(client, chat, "syarat ktp") == []
    await chat.close()


async def test_a_supervisor_request_is_handed_over_at_once(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    chat = await ChatClient.connect(client)
    [handoff] = await say(client, chat, "mana supervisornya")
    assert handoff.startswith("Baik, percakapan ini saya teruskan ke petugas."), handoff
    row = await row_of(hub, chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "asked")
    assert await say(client, chat, "menu") == [], (
        "asked for a person in office hours: officers answer"
    )

    other = await ChatClient.connect(client)
    [handoff] = await say(client, other, "saya mau bicara dengan atasan")
    assert "teruskan ke petugas" in handoff
    assert (await row_of(hub, other.session)).handoff_reason == "asked"
    await chat.close()
    await other.close()


async def test_an_angry_request_for_a_person_is_handed_over_as_angry(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatClient.connect(client)
    [handoff] = await say(client, chat, "panggil atasan kalian, tidak becus!!!")
    assert handoff.startswith("Kami mohon maaf atas pengalaman Anda. Percakapan ini"), handoff
    row = await row_of(client.app[HUB], chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "angry")
    await chat.close()


async def test_misses_inside_a_booking_flow_do_not_hand_over(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatClient.connect(client)
    [ask] = await say(client, chat, "mau antri paspor")
    assert "tanggal" in ask.lower(), ask
    first = await say(client, chat, "xyzzy")
    second = await say(client, chat, "asdfgh qwerty")
    assert not any("teruskan ke petugas" in text for text in first + second), (first, second)
    row = await row_of(client.app[HUB], chat.session)
    assert row.status == "bot" and row.handoff_reason is None
    await chat.close()


async def test_outside_office_hours_the_citizen_is_told_when_and_the_bot_stays(
    client: TestClient[Any, Any], clock: Clock
) -> None:
    clock.now = SATURDAY
    chat = await ChatClient.connect(client)
    [handoff] = await say(client, chat, "mau bicara dengan petugas")
    assert (
        "Petugas akan membalas di chat ini pada Senin, 7 Desember 2026, mulai pukul 08.00 WITA."
        in handoff
    ), handoff
    assert handoff.endswith(STILL_HERE)
    requirements = await say(client, chat, "syarat ktp")
    assert requirements and requirements[0].startswith("Persyaratan"), (
        "the bot stays available meanwhile"
    )
    row = await row_of(client.app[HUB], chat.session)
    assert (row.status, row.handoff_reason) == ("handoff", "asked")

    english = await ChatClient.connect(client)
    [handoff] = await say(client, english, "I want to talk to a person")
    assert handoff.endswith(
        "An officer will answer in this chat on Monday 7 December 2026, from 08:00 WITA. "
        "Messages you send meanwhile are kept.\n"
        'Meanwhile you can still ask me, for example type "menu".'
    ), handoff
    await chat.close()
    await english.close()


def test_every_handoff_sms_fits_one_segment() -> None:
    renderer = Renderer(templates_dir())
    sms = Capabilities(max_text_length=459, buttons=False, address_kind=AddressKind.PHONE)
    day = {"iso": "2026-12-30", "weekday": 2, "day": 30, "month": 12, "year": 2026}
    for locale in ("id", "en"):
        for reason in ("asked", "angry", "failures"):
            for is_open in (True, False):
                nxt = {**day, "time": "08:00", "today": False, "tomorrow": True}
                context = {"reason": reason, "open": is_open, "ticket": "", "next": nxt}
                [message] = renderer.render(
                    Reply("handoff", context),
                    locale=locale,
                    channel="sms",
                    recipient="+62812",
                    capabilities=sms,
                )
                body = to_gsm7(message.text)
                assert is_gsm7(body) and segments(body) == 1, (locale, reason, body)
                told = "MENU" in body
                assert told == (reason == "failures" or not is_open), body


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("mana supervisornya", True),
        ("saya mau bicara dengan atasan", True),
        ("panggil petugas", True),
        ("I want to talk to a person", True),
        ("can I speak to your manager?", True),
        ("syarat ktp", False),
        ("tadi atasannya bilang berkas saya kurang lengkap jadi harus datang lagi besok", False),
        # A demand at the end of a long angry story is still a demand.
        ("udh 2x sy dtg ke mpp berkas sy ilang terus!!! sy mau bicara sm atasan skrg jg", True),
        ("petugas tadi bilang mau bicara dengan atasan dulu, jadi saya disuruh nunggu", False),
        (
            "I have waited for two hours and the counter is closed, I want to speak to a manager",
            True,
        ),
    ],
)
def test_a_short_request_for_a_supervisor_is_read_as_asking_for_a_person(
    text: str, asks: bool
) -> None:
    assert asks_for_a_person(text) is asks


async def test_officers_see_what_the_bot_answered_while_waiting_and_a_claim_silences_it(
    client: TestClient[Any, Any],
) -> None:
    await add_officer(client.app, "made", name="Made Sudarsana")
    desk = Desk(client)
    await desk.login("made")
    chat = await ChatClient.connect(client)
    await misunderstood_twice(chat)
    [menu] = await say(client, chat, "menu")

    [row] = await desk.inbox()
    assert (row["status"], row["reason_label"], row["bot_answers"]) == (
        "handoff",
        "Bot tidak memahami",
        True,
    )
    assert row["last_text"] == "menu"
    assert 'id="bot-answers"' in await desk.page(row["id"])
    texts = [str(m["text"]) for m in (await desk.history(row["id"]))["messages"]]
    assert texts[-2:] == ["menu", menu], texts

    claimed = await desk.act(row["id"], "claim")
    assert claimed.status == 303
    assert await say(client, chat, "syarat ktp") == [], "claimed: only the officer answers"
    [row] = await desk.inbox()
    assert (row["status"], row["bot_answers"]) == ("officer", False)
    assert 'id="bot-answers"' not in await desk.page(row["id"])
    await chat.close()


def test_the_store_reads_the_mark_the_engine_writes() -> None:
    assert SERVED == SERVED_KEY


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


class Texter:
    """A citizen by SMS through the Twilio webhook; reads every SMS a message got."""

    def __init__(self, client: TestClient[Any, Any], twilio: FakeTwilio) -> None:
        self.client, self.twilio, self.sent = client, twilio, 0

    async def say(self, text: str) -> list[str]:
        before = len(self.twilio.messages)
        sid = f"SM{self.sent:032x}"
        self.sent += 1
        response = await post(self.client, WEBHOOK, fixture("sms_text", MessageSid=sid, Body=text))
        assert response.status == 200
        await settled(self.client.app[HUB])
        return [m.field("Body") for m in self.twilio.messages[before:]]


async def test_by_sms_a_misunderstood_citizen_gets_the_menu_while_waiting(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(
        create_app(settings_for(make_settings, twilio), clock=Clock(SATURDAY))
    )
    sms = Texter(client, twilio)
    assert await sms.say("asdfgh qwerty")
    [handoff] = await sms.say("xyzzy")
    assert handoff.startswith("Maaf, saya belum paham. Pesan Anda kami teruskan ke petugas.")
    assert "Senin" in handoff and handoff.endswith("Ketik MENU utk bantuan bot."), handoff
    assert segments(to_gsm7(handoff)) == 1
    [menu] = await sms.say("MENU")
    assert menu.startswith("Layanan chat MPP Badung:") and "4. Bicara dengan petugas" in menu
    assert await sms.say("hmm xyzzy") == []

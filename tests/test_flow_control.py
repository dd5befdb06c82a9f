"""The engine pauses, resumes, keeps, drops and times out flows: through the real app.

The clock is held on Monday 30 November 2026, 08:00 WITA and moved by hand.
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

from hub.app import HUB, create_app
from hub.channels.sms_text import is_gsm7, segments
from hub.config import Settings
from hub.dialogs import frames
from hub.dialogs.booking import STATE as BOOKING
from hub.dialogs.care import STATE as CARE
from hub.store.tables import conversations
from tests.chat_client import ChatClient, Citizen
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.test_twilio import WEBHOOK, fixture, post, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Asia/Makassar"))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def state_of(client: TestClient[Any, Any]) -> dict[str, Any]:
    async with client.app[HUB].db.engine.connect() as conn:
        row = (await conn.execute(sa.select(conversations.c.state))).one()
    return dict(row[0] or {})


def titles(reply: dict[str, Any]) -> list[str]:
    return [c["title"] for c in reply["choices"]]


async def test_a_question_mid_booking_is_answered_and_the_state_kept(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    chat = Citizen(await ChatClient.connect(client))
    [ask] = await chat.say("antri paspor")
    before = (await state_of(client))[BOOKING]
    fee, again = await chat.say("biaya paspor berapa", 2)
    assert fee["text"].startswith("Biaya") and fee["choices"] == [], "the flow's buttons only"
    assert again["text"].startswith("Kembali ke pemesanan antrean Paspor:\n")
    assert again["text"].endswith(ask["text"]) and titles(again) == titles(ask)
    state = await state_of(client)
    assert state[BOOKING] == before
    assert state[frames.LAST_SEEN] == NOW.isoformat()
    await chat.chat.close()


async def test_by_sms_a_digit_after_a_digression_answers_the_flows_question(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    twilio: FakeTwilio,
    clock: Clock,
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, twilio), clock=clock))
    sent = 0

    async def sms(text: str, replies: int = 1) -> list[str]:
        nonlocal sent
        sent += 1
        seen = len(twilio.messages)
        form = fixture("sms_text", MessageSid=f"SM{sent:032x}", Body=text)
        assert (await post(client, WEBHOOK, form)).status == 200
        messages = await twilio.wait_for_messages(seen + replies)
        return [m.field("Body") for m in messages[seen:]]

    await sms("antri paspor")
    fee, question = await sms("biaya paspor brp", 2)
    assert "Rp350.000" in fee and "\n1. " not in fee, "no numbers of its own"
    assert question.startswith("Kembali ke pemesanan antrean Paspor:\nAntrean Paspor tanggal")
    assert "2. Sel 1 Des" in question
    assert all(is_gsm7(body) and segments(body) <= 2 for body in (fee, question))
    [session] = await sms("2")
    assert session.startswith("Pilih sesi untuk Paspor, Selasa, 1 Desember 2026"), session


async def test_the_idle_timeout_is_configured(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    settings = make_settings(dialogs={"flow_timeout_minutes": 5})
    client = await aiohttp_client(create_app(settings, clock=clock))
    chat = Citizen(await ChatClient.connect(client))
    await chat.say("antri paspor")
    clock.advance(minutes=5)
    [session] = await chat.say("besok")
    assert session["text"].startswith("Pilih sesi untuk Paspor"), "5 minutes is not past 5"
    clock.advance(minutes=5, seconds=1)
    [fresh, *_menu] = await chat.say("halo", 2)
    assert fresh["text"].startswith(
        "Pemesanan antrean Paspor yang tadi tidak dilanjutkan dan sudah saya hapus; "
        "belum ada antrean yang diambil.\nHalo lagi!"
    )
    state = await state_of(client)
    assert BOOKING not in state and frames.LAST_SEEN not in state
    await chat.chat.close()


async def test_a_handoff_drops_the_paused_flows_too(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    chat = Citizen(await ChatClient.connect(client))
    await chat.say("antri paspor")
    [question] = await chat.say("mau komplain")
    assert titles(question) == ["Ya, simpan", "Buang yang tadi", "Lanjut yang tadi"]
    assert frames.SWITCH in await state_of(client)
    [kept] = await chat.choose("/flow_keep")
    assert kept["text"].startswith("Baik, pemesanan antrean Paspor saya simpan")
    state = await state_of(client)
    assert CARE in state and BOOKING not in state
    assert [f["flow"] for f in state[frames.PAUSED]] == ["booking"]
    await chat.say("mau bicara dengan petugas")
    state = await state_of(client)
    assert not {CARE, BOOKING, frames.PAUSED, frames.LAST_SEEN} & set(state)
    await chat.chat.close()


async def test_an_unrelated_answer_to_keep_or_drop_forgets_the_new_request(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    chat = Citizen(await ChatClient.connect(client))
    await chat.say("antri paspor")
    await chat.say("mau komplain")
    [session] = await chat.say("besok")
    assert session["text"].startswith("Pilih sesi untuk Paspor, Selasa, 1 Desember 2026")
    state = await state_of(client)
    assert frames.SWITCH not in state and CARE not in state
    await chat.chat.close()


async def test_the_person_button_pressed_mid_booking_hands_over(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    chat = Citizen(await ChatClient.connect(client))
    await chat.say("antri paspor")
    [handoff] = await chat.choose("/talk_to_human")
    assert "teruskan ke petugas" in handoff["text"]
    async with client.app[HUB].db.engine.connect() as conn:
        status = (await conn.execute(sa.select(conversations.c.status))).scalar_one()
    assert status == "handoff"
    await chat.chat.close()

"""The NLU inside the running hub: intents drive replies, doubt asks, NIKs are not kept."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.config import Settings
from hub.nlu.results import IntentScore, Parse
from hub.store.tables import messages
from tests.chat_client import ChatClient

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]


class UnsureEngine:
    """An engine torn between asking for the fee and for the requirements."""

    name = "unsure"

    async def parse(self, text: str, *, today: date) -> Parse:
        ranking = (
            IntentScore("ask_fee", 0.33),
            IntentScore("ask_requirements", 0.31),
            IntentScore("out_of_scope", 0.2),
        )
        return Parse(text, ranking[0], ranking, locale="id", engine=self.name)


async def test_real_engine_understands_informal_indonesian_and_english(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    monday = datetime(2026, 11, 30, 8, tzinfo=ZoneInfo("Asia/Makassar"))
    client = await aiohttp_client(create_app(make_settings(), clock=lambda: monday))
    chat = await ChatClient.connect(client)
    await chat.say("sy mau bikin ktp bsk bisa gk")
    (booking,) = await chat.replies(1)
    assert booking["text"].startswith("Pilih sesi untuk KTP-el baru, Selasa, 1 Desember 2026")
    await chat.say("what documents do I need for a passport")
    (info,) = await chat.replies(1)
    assert info["text"].startswith("Requirements for Indonesian passport")
    hub = client.app[HUB]
    async with hub.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(messages.c.intent, messages.c.entities)
                .where(messages.c.direction == "inbound")
                .order_by(messages.c.id)
            )
        ).all()
    assert [r.intent for r in rows] == ["book_queue", "ask_requirements"]
    first = {(e["type"], e["value"]) for e in rows[0].entities["entities"]}
    assert ("service", "ktp_el_baru") in first
    tomorrow = hub.inbound.today() + timedelta(days=1)
    assert ("date", tomorrow.isoformat()) in first, "'bsk' is tomorrow in WITA"
    assert {e["type"] for e in rows[1].entities["entities"]} == {"service"}
    metrics = await (await client.get("/metrics")).text()
    assert 'omnihub_nlu_intents_total{intent="book_queue"} 1.0' in metrics
    await chat.close()


async def test_low_confidence_gets_a_clarifying_question(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    client.app[HUB].understanding.engine = UnsureEngine()
    chat = await ChatClient.connect(client)
    await chat.say("paspor gmn")
    (question,) = await chat.replies(1)
    assert question["text"] == "Maaf, maksud Anda yang mana?"
    assert [(c["title"], c["payload"]) for c in question["choices"]] == [
        ("Biaya layanan", "/ask_fee"),
        ("Persyaratan layanan", "/ask_requirements"),
    ]
    await chat.choose("/ask_requirements", "Persyaratan layanan")
    (answer,) = await chat.replies(1)
    assert answer["text"].startswith("Persyaratan untuk layanan apa?")
    metrics = await (await client.get("/metrics")).text()
    assert "omnihub_nlu_clarifications_total 1.0" in metrics
    await chat.close()


async def test_a_nik_is_not_kept_in_the_stored_message(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await ChatClient.connect(client)
    await chat.say("nik sy 5103012345670001 mau cek antrian")
    await chat.replies(1)
    async with client.app[HUB].db.engine.connect() as conn:
        text, entities = (
            await conn.execute(
                sa.select(messages.c.text, messages.c.entities).where(
                    messages.c.direction == "inbound"
                )
            )
        ).one()
    assert "5103012345670001" not in text
    assert text == "nik sy 5103••••••••0001 mau cek antrian"
    assert "5103012345670001" not in str(entities)
    await chat.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound (so no other xdist worker can take it), not
    listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def test_rasa_down_falls_back_to_builtin_and_is_counted(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], closed_port: int
) -> None:
    settings = make_settings(nlu={"engine": "rasa", "rasa_url": f"http://127.0.0.1:{closed_port}"})
    client = await aiohttp_client(create_app(settings))
    chat = await ChatClient.connect(client)
    await chat.say("halo")
    greet, _menu = await chat.replies(2)
    assert "selamat datang" in greet["text"]
    metrics = await (await client.get("/metrics")).text()
    assert 'omnihub_nlu_fallbacks_total{reason="connection"} 1.0' in metrics
    await chat.close()

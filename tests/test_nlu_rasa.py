"""The Rasa engine against a fake Rasa server: mapping, merging, and every way back to built-in.

The last test (marked ``rasa``) runs against a real Rasa server only when
``OMNIHUB_TEST_RASA_URL`` is set (``scripts/rasa-server.sh`` starts one).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

import aiohttp
import pytest

from hub.nlu.rasa import RasaEngine
from hub.nlu.results import Entity, IntentScore, NluEngine, Parse
from tests.fakes.rasa import FakeEntity, FakeRasa

TODAY = date(2026, 11, 30)


@dataclass
class StubEngine:
    """A fallback that says one fixed thing and finds fixed entities in any text."""

    intent: str = "inform"
    entities: tuple[Entity, ...] = ()
    name: str = "builtin"
    calls: list[tuple[str, date]] = field(default_factory=list)

    async def parse(self, text: str, *, today: date) -> Parse:
        self.calls.append((text, today))
        return Parse(
            text=text,
            intent=IntentScore(self.intent, 0.55),
            entities=self.entities,
            locale="id",
            engine="builtin",
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeRasa]:
    server = await FakeRasa().start()
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _engine(
    url: str,
    session: aiohttp.ClientSession,
    fallback: NluEngine,
    reasons: list[str] | None = None,
    timeout: float = 2.0,
) -> RasaEngine:
    return RasaEngine(url, session, timeout, fallback, None if reasons is None else reasons.append)


async def test_intent_ranking_and_service_come_from_rasa_resolved_entities_from_fallback(
    fake: FakeRasa, session: aiohttp.ClientSession
) -> None:
    text = "sy mau antri bikin paspor senin dpn jam 9"
    fake.intent, fake.confidence = "book_queue", 0.93
    fake.ranking = [("book_queue", 0.93), ("reschedule_booking", 0.05), ("nlu_fallback", 0.0)]
    fake.entities = [
        FakeEntity("service", "bikin paspor", value="paspor"),
        FakeEntity("date", "senin dpn"),  # Rasa's span only: the fallback's resolved one wins
    ]
    resolved_date = Entity("date", "2026-12-07", "senin dpn", 26, 35)
    resolved_time = Entity("time", "09:00", "jam 9", 36, 41)
    fallback = StubEngine(entities=(resolved_time, resolved_date))
    reasons: list[str] = []

    engine = _engine(fake.url, session, fallback, reasons)
    parse = await engine.parse(text, today=TODAY)

    assert engine.name == "rasa"
    assert fake.requests == [{"text": text}]
    assert fallback.calls == [(text, TODAY)]
    assert parse.engine == "rasa"
    assert parse.text == text
    assert parse.intent == IntentScore("book_queue", 0.93)
    assert [s.name for s in parse.ranking] == ["book_queue", "reschedule_booking", "out_of_scope"]
    assert parse.entities == (
        Entity("service", "paspor", "bikin paspor", 13, 25, 0.998),
        resolved_date,
        resolved_time,
    )
    assert parse.first("date") == resolved_date
    assert parse.locale == "id"
    assert reasons == []


async def test_service_without_synonym_keeps_rasa_value_and_regex_entity_has_full_confidence(
    fake: FakeRasa, session: aiohttp.ClientSession
) -> None:
    fake.intent = "ask_fee"
    fake.entities = [
        FakeEntity("service", "skck"),
        FakeEntity("service", "kk", value="kartu_keluarga", confidence=None, extractor="Regex"),
    ]
    parse = await _engine(fake.url, session, StubEngine()).parse(
        "biaya skck sama kk brp", today=TODAY
    )
    assert [(e.value, e.text, e.confidence) for e in parse.entities] == [
        ("skck", "skck", 0.998),
        ("kartu_keluarga", "kk", 1.0),
    ]


@pytest.mark.parametrize("rasa_intent", ["nlu_fallback", "chitchat", "faq/weather"])
async def test_unknown_intent_and_rasa_fallback_become_out_of_scope(
    fake: FakeRasa, session: aiohttp.ClientSession, rasa_intent: str
) -> None:
    fake.intent, fake.confidence = rasa_intent, 0.5
    fake.ranking = [(rasa_intent, 0.5), ("greet", 0.31), ("out_of_scope", 0.12)]
    parse = await _engine(fake.url, session, StubEngine()).parse("cuaca hari ini", today=TODAY)
    assert parse.engine == "rasa"
    assert parse.intent == IntentScore("out_of_scope", 0.5)
    # out_of_scope appears once, with the best of the scores mapped to it.
    assert parse.ranking == (IntentScore("out_of_scope", 0.5), IntentScore("greet", 0.31))
    assert parse.extra["rasa_intent"] == rasa_intent


async def test_url_with_trailing_slash(fake: FakeRasa, session: aiohttp.ClientSession) -> None:
    parse = await _engine(fake.url + "/", session, StubEngine()).parse("halo", today=TODAY)
    assert parse.intent.name == "greet"


async def test_timeout_falls_back_and_is_reported(
    fake: FakeRasa, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    fake.delay = 1.0
    fallback = StubEngine(intent="book_queue")
    reasons: list[str] = []
    text = "nik sy 5103012345670001 mau antri"
    with caplog.at_level(logging.WARNING, logger="hub.nlu.rasa"):
        parse = await _engine(fake.url, session, fallback, reasons, timeout=0.2).parse(
            text, today=TODAY
        )
    assert parse.engine == "builtin"
    assert parse.intent.name == "book_queue"
    assert parse.extra["rasa_fallback"] == "timeout"
    assert reasons == ["timeout"]
    assert len(fallback.calls) == 1, "the fallback's parse is reused, not done twice"
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert text not in record.getMessage() and "5103012345670001" not in str(record.__dict__)


async def test_server_error_falls_back(fake: FakeRasa, session: aiohttp.ClientSession) -> None:
    fake.status = 500
    reasons: list[str] = []
    parse = await _engine(fake.url, session, StubEngine(), reasons).parse("halo", today=TODAY)
    assert (parse.engine, parse.intent.name) == ("builtin", "inform")
    assert reasons == ["http_500"]


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '{"intent": null, "entities": []}',
        '{"intent": {"name": "greet", "confidence": "high"}}',
        '{"intent": {"name": "greet", "confidence": 0.9}, "entities": {}}',
        '{"intent": {"name": "greet", "confidence": 0.9}, "entities": [{"entity": "service"}]}',
        '{"intent": {"name": "greet", "confidence": 0.9}, "intent_ranking": [{"conf": 1}]}',
    ],
)
async def test_malformed_answer_falls_back(
    fake: FakeRasa, session: aiohttp.ClientSession, body: str
) -> None:
    fake.raw_body = body
    reasons: list[str] = []
    parse = await _engine(fake.url, session, StubEngine(), reasons).parse("halo", today=TODAY)
    assert parse.engine == "builtin"
    assert reasons == ["malformed"]


async def test_connection_refused_falls_back(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reasons: list[str] = []
    parse = await _engine(f"http://127.0.0.1:{port}", session, StubEngine(), reasons).parse(
        "halo", today=TODAY
    )
    assert parse.engine == "builtin"
    assert reasons == ["connection"]


async def test_fallback_without_callback(fake: FakeRasa, session: aiohttp.ClientSession) -> None:
    fake.status = 503
    engine = RasaEngine(fake.url, session, 1.0, StubEngine())
    assert (await engine.parse("halo", today=TODAY)).engine == "builtin"


RASA_URL = os.environ.get("OMNIHUB_TEST_RASA_URL")

# Unambiguous messages and the intent any reasonable model of nlu/data gives them.
REAL_CASES = [
    ("halo", "greet"),
    ("selamat pagi kak", "greet"),
    ("terima kasih", "thanks"),
    ("makasih ya min", "thanks"),
    ("dadah", "goodbye"),
    ("menu", "help"),
]


@pytest.mark.rasa
@pytest.mark.skipif(not RASA_URL, reason="set OMNIHUB_TEST_RASA_URL to a running Rasa server")
@pytest.mark.parametrize(("text", "intent"), REAL_CASES)
async def test_real_rasa_server(session: aiohttp.ClientSession, text: str, intent: str) -> None:
    assert RASA_URL is not None
    reasons: list[str] = []
    engine = _engine(RASA_URL, session, StubEngine(intent="deny"), reasons, timeout=10.0)
    parse = await engine.parse(text, today=TODAY)
    assert reasons == [], "the real server answered"
    assert parse.engine == "rasa"
    assert parse.intent.name == intent, parse
    assert 0.0 <= parse.intent.confidence <= 1.0
    assert parse.ranking and parse.ranking[0].name == intent

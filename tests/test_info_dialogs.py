"""Service information from the catalogue: the flow alone, then whole conversations
through the real app on the web chat and on SMS (Twilio), and reloading the catalogue."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.catalogue import (
    CatalogueError,
    CurrentCatalogue,
    default_catalogue_path,
    load_catalogue,
)
from hub.channels.base import Capabilities
from hub.channels.sms_text import is_gsm7, segments, to_gsm7
from hub.channels.twilio import SMS_MAX_TEXT
from hub.config import Settings
from hub.dialogs.engine import DialogEngine, Outcome, Turn, read_payload
from hub.dialogs.info import AWAITING, INFO_INTENTS, InfoFlow, opening_hours, payload
from hub.model import AddressKind
from hub.nlu.results import Entity, IntentScore, Parse
from hub.pipeline.render import Renderer
from hub.resources import templates_dir
from tests.chat_client import ChatClient
from tests.fakes.twilio import FakeTwilio
from tests.sms_client import SmsCitizen
from tests.test_twilio import settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

CATALOGUE = load_catalogue()
PASPOR = CATALOGUE.services["paspor"]
SKCK = CATALOGUE.services["skck"]
KK = CATALOGUE.services["kartu_keluarga"]
ADDRESS = CATALOGUE.mall["location"]["text"]
SMS = Capabilities(max_text_length=SMS_MAX_TEXT, buttons=False, address_kind=AddressKind.PHONE)
WEB = Capabilities(max_text_length=4000, buttons=True, max_buttons=10)


# --- the flow with hand-made understandings ---------------------------------------------


def understood(
    intent: str,
    confidence: float = 0.9,
    *,
    service: str | None = None,
    locale: str | None = None,
) -> Parse:
    entities = (Entity("service", service, service, 0, len(service)),) if service else ()
    score = IntentScore(intent, confidence)
    return Parse(text="…", intent=score, ranking=(score,), entities=entities, locale=locale)


def turn(parse: Parse | None = None, choice: str | None = None, channel: str = "webchat") -> Turn:
    return Turn(
        text="…",
        choice_payload=choice,
        channel=channel,
        default_locale="id",
        supported_locales=("id", "en"),
        parse=parse,
    )


def templates(outcome: Outcome) -> list[str]:
    return [reply.template for reply in outcome.replies]


def payloads(outcome: Outcome) -> list[str]:
    return [choice.payload for reply in outcome.replies for choice in reply.choices]


@pytest.fixture
def engine() -> DialogEngine:
    return DialogEngine(threshold=0.4, catalogue=CATALOGUE)


@pytest.mark.parametrize(
    ("intent", "template", "shortcuts"),
    [
        ("ask_requirements", "info_requirements", ["ask_fee", "ask_location"]),
        ("ask_fee", "info_fee", ["ask_requirements", "ask_location"]),
        ("ask_hours", "info_hours", ["ask_requirements", "ask_location"]),
        ("ask_location", "info_location", ["ask_requirements", "ask_hours"]),
        ("ask_service_info", "info_service", ["ask_requirements", "ask_location"]),
    ],
)
def test_a_named_service_is_answered_with_the_next_steps(
    engine: DialogEngine, intent: str, template: str, shortcuts: list[str]
) -> None:
    outcome = engine.handle(turn(understood(intent, service="paspor")), {}, "id")
    assert templates(outcome) == [template]
    service = outcome.replies[0].context["service"]
    assert service["id"] == "paspor" and service["name"] == PASPOR.name_id
    assert service["requirements"] == PASPOR.requirements and service["fee"] == PASPOR.fee
    assert payloads(outcome) == [
        '/book_queue{"service": "paspor"}',
        *(f'/{other}{{"service": "paspor"}}' for other in shortcuts),
    ]
    assert outcome.replies[0].choices[0].title == "@intent.book_queue"
    assert AWAITING not in outcome.state


def test_names_follow_the_citizens_language(engine: DialogEngine) -> None:
    outcome = engine.handle(turn(understood("ask_fee", service="skck", locale="en")), {}, "id")
    assert outcome.locale == "en"
    assert outcome.replies[0].context["service"]["name"] == SKCK.name_en
    assert outcome.replies[0].context["mall"]["name"] == CATALOGUE.mall["name_en"]


def test_hours_and_location_without_a_service_are_the_malls(engine: DialogEngine) -> None:
    hours = engine.handle(turn(understood("ask_hours")), {}, "id")
    assert templates(hours) == ["info_mall_hours"]
    assert hours.replies[0].context["mall"]["hours"] == [
        {"days": "mon_thu", "hours": "08:00-15:00", "closed": False, "note": ""},
        {"days": "fri", "hours": "08:00-13:00", "closed": False, "note": ""},
        {"days": "sat_sun", "hours": "", "closed": True, "note": ""},
    ]
    location = engine.handle(turn(understood("ask_location")), {}, "id")
    assert templates(location) == ["info_mall_location"]
    mall = location.replies[0].context["mall"]
    assert mall["address"] == ADDRESS
    assert mall["parking"] == CATALOGUE.mall["parking"]["text_id"]
    assert "/book_queue" in payloads(location) and "/ask_hours" in payloads(location)
    assert AWAITING not in hours.state and AWAITING not in location.state


def test_what_is_offered_lists_agencies_and_offers_services(engine: DialogEngine) -> None:
    outcome = engine.handle(turn(understood("ask_service_info")), {}, "id")
    assert templates(outcome) == ["info_offer"]
    context = outcome.replies[0].context
    assert context["agencies"][:3] == ["Disdukcapil", "Imigrasi", "Polres Badung"]
    popular = CATALOGUE.mall["popular_services"]
    assert payloads(outcome) == [f'/ask_service_info{{"service": "{s}"}}' for s in popular]
    assert outcome.state[AWAITING] == {"intent": "ask_service_info", "slot": "service"}
    answer = engine.handle(turn(understood("inform", 0.3, service="skck")), outcome.state, "id")
    assert templates(answer) == ["info_service"]


def test_which_service_is_asked_then_a_bare_name_completes_it(engine: DialogEngine) -> None:
    asked = engine.handle(turn(understood("ask_requirements")), {"turns": 1}, "id")
    assert templates(asked) == ["ask_which_service"]
    assert asked.replies[0].context["intent"] == "ask_requirements"
    assert asked.state[AWAITING] == {"intent": "ask_requirements", "slot": "service"}
    titles = [c.title for c in asked.replies[0].choices]
    assert len(titles) == 8 and "Paspor" in titles
    assert '/ask_requirements{"service": "paspor"}' in payloads(asked)
    # "paspor" alone: a low-confidence "inform", still a clear answer to the question.
    answer = engine.handle(turn(understood("inform", 0.2, service="paspor")), asked.state, "id")
    assert templates(answer) == ["info_requirements"]
    assert answer.replies[0].context["service"]["id"] == "paspor"
    assert AWAITING not in answer.state


def test_any_intent_naming_a_service_completes_the_question(engine: DialogEngine) -> None:
    asked = engine.handle(turn(understood("ask_fee")), {}, "id")
    answer = engine.handle(turn(understood("book_queue", service="skck")), asked.state, "id")
    assert templates(answer) == ["info_fee"]
    assert answer.replies[0].context["service"]["id"] == "skck"


def test_a_confident_other_question_about_the_service_wins(engine: DialogEngine) -> None:
    asked = engine.handle(turn(understood("ask_fee")), {}, "id")
    answer = engine.handle(
        turn(understood("ask_requirements", 0.95, service="paspor")), asked.state, "id"
    )
    assert templates(answer) == ["info_requirements"]
    unsure = engine.handle(
        turn(understood("ask_requirements", 0.5, service="paspor")), asked.state, "id"
    )
    assert templates(unsure) == ["info_fee"]


def test_a_message_without_a_service_drops_the_question(engine: DialogEngine) -> None:
    asked = engine.handle(turn(understood("ask_requirements")), {}, "id")
    greeted = engine.handle(turn(understood("greet")), asked.state, "id")
    assert templates(greeted) == ["greet", "menu"]
    assert AWAITING not in greeted.state
    later = engine.handle(turn(understood("inform", service="paspor")), greeted.state, "id")
    assert templates(later) == ["fallback", "menu"], "the question is no longer pending"


def test_a_pressed_button_means_what_it_says(engine: DialogEngine) -> None:
    asked = engine.handle(turn(understood("ask_requirements")), {}, "id")
    chosen = engine.handle(turn(choice='/ask_fee{"service": "kartu_keluarga"}'), asked.state, "id")
    assert templates(chosen) == ["info_fee"]
    assert chosen.replies[0].context["service"]["id"] == "kartu_keluarga"
    assert chosen.understanding.intent == IntentScore("ask_fee", 1.0)
    assert AWAITING not in chosen.state
    booking = engine.handle(turn(choice='/book_queue{"service": "paspor"}'), asked.state, "id")
    assert templates(booking) == ["not_ready", "menu"], "no booking service in a pure engine"


def test_another_flows_pending_question_is_left_alone(engine: DialogEngine) -> None:
    state = {AWAITING: {"intent": "book_queue", "slot": "date"}}
    outcome = engine.handle(turn(understood("ask_fee", service="skck")), state, "id")
    assert templates(outcome) == ["info_fee"]
    assert outcome.state[AWAITING] == {"intent": "book_queue", "slot": "date"}


def test_an_unknown_service_id_counts_as_none(engine: DialogEngine) -> None:
    outcome = engine.handle(turn(understood("ask_fee", service="no_such_service")), {}, "id")
    assert templates(outcome) == ["ask_which_service"]


@pytest.mark.parametrize(
    ("raw", "intent", "entities"),
    [
        ("/ask_fee", "ask_fee", []),
        ('/ask_fee{"service": "kartu_keluarga"}', "ask_fee", [("service", "kartu_keluarga")]),
        (
            '/book_queue{"service":"paspor","date":"2026-12-01"}',
            "book_queue",
            [
                ("service", "paspor"),
                ("date", "2026-12-01"),
            ],
        ),
        ('/ask_fee{"service": paspor}', "ask_fee", []),  # invalid JSON: just the intent
        ('/ask_fee{"colour": "red", "service": true}', "ask_fee", []),  # unknown type, a bool
        ("/ask_fee{", "ask_fee", []),
    ],
)
def test_payloads_carry_entities_in_rasas_style(
    raw: str, intent: str, entities: list[tuple[str, str]]
) -> None:
    parse = read_payload(raw, "Biaya")
    assert parse.intent == IntentScore(intent, 1.0) and parse.engine == "choice"
    assert [(e.type, e.value) for e in parse.entities] == entities
    assert parse.text == "Biaya"


def test_every_payload_fits_a_telegram_button() -> None:
    for service in CATALOGUE.services.values():
        for intent in (*INFO_INTENTS, "book_queue"):
            assert len(payload(intent, service.id).encode()) <= 64, (intent, service.id)


def test_a_services_hours_take_missing_days_from_the_mall() -> None:
    default = CATALOGUE.mall["default_hours"]
    lines = opening_hours(PASPOR.hours, default)
    assert [line["days"] for line in lines] == ["mon_thu", "fri", "sat", "sun"]
    assert lines[2]["closed"] and lines[2]["note"].startswith("Imigrasi sometimes")
    assert lines[3] == {"days": "sun", "hours": "", "closed": True, "note": ""}
    weekdays = opening_hours({"mon_fri": "08:00-14:00", "sun": "tutup"}, default)
    assert [(line["days"], line["hours"]) for line in weekdays] == [
        ("mon_fri", "08:00-14:00"),
        ("sat_sun", ""),
    ], "the mall's Mon-Thu and Friday are covered by the service's Mon-Fri"


def test_a_new_catalogue_answers_from_the_next_message() -> None:
    catalogues = CurrentCatalogue(load_catalogue())
    engine = DialogEngine(catalogue=catalogues)
    changed = load_catalogue()
    changed.services["skck"] = type(SKCK)(**{**_fields(SKCK), "fee": "Rp45.000"})
    catalogues.replace(changed)
    outcome = engine.handle(turn(understood("ask_fee", service="skck")), {}, "id")
    assert outcome.replies[0].context["service"]["fee"] == "Rp45.000"
    assert engine.catalogue is changed


def _fields(service: Any) -> dict[str, Any]:
    return {name: getattr(service, name) for name in service.__dataclass_fields__}


def test_popular_services_must_be_known(tmp_path: Path) -> None:
    text = default_catalogue_path().read_text(encoding="utf-8")
    broken = tmp_path / "services.yaml"
    broken.write_text(text.replace("popular_services: [", "popular_services: [nope, "))
    with pytest.raises(CatalogueError, match="popular_services"):
        load_catalogue(broken)


# --- every answer, rendered --------------------------------------------------------------


def _every_answer() -> list[tuple[str, str, Any]]:
    flow = InfoFlow(CATALOGUE)
    found = []
    for locale in ("id", "en"):
        for intent in INFO_INTENTS:
            for service in (*CATALOGUE.services.values(), None):
                for reply in flow.answer(intent, service, {}, locale):
                    found.append((locale, f"{intent}/{service.id if service else '-'}", reply))
    return found


def test_every_answer_is_one_gsm7_sms_of_at_most_three_segments() -> None:
    renderer = Renderer(templates_dir())
    for locale, what, reply in _every_answer():
        sms = renderer.render(
            reply, locale=locale, channel="sms", recipient="+628123", capabilities=SMS
        )
        assert len(sms) == 1, (locale, what)
        text = to_gsm7(sms[0].text)
        assert is_gsm7(text) and segments(text) <= 3, (locale, what, text)
        assert "\n1. " in text, "the next steps are a numbered menu"
        web = renderer.render(
            reply, locale=locale, channel="webchat", recipient="s", capabilities=WEB
        )
        assert len(web) == 1 and web[0].choices, (locale, what)
        assert all(c.title and not c.title.startswith("@") for c in web[0].choices)


def test_the_web_chat_shows_the_full_list_and_sms_a_short_one() -> None:
    renderer = Renderer(templates_dir())
    reply = InfoFlow(CATALOGUE).answer("ask_requirements", SKCK, {}, "id")[0]
    [web] = renderer.render(reply, locale="id", channel="webchat", recipient="s", capabilities=WEB)
    assert all(f"- {item}" in web.text for item in SKCK.requirements)
    assert web.text.rstrip().endswith("Ambil antrean untuk layanan ini?")
    [sms] = renderer.render(reply, locale="id", channel="sms", recipient="+62", capabilities=SMS)
    assert sms.text.startswith("Syarat SKCK:\n- Fotokopi KTP-el/SIM (tunjukkan asli)\n")
    assert sms.text.count("\n- ") == 6 and "\n+3 syarat lain" in sms.text
    assert segments(to_gsm7(sms.text)) <= 3 < segments(to_gsm7(web.text))


# --- conversations on the web chat --------------------------------------------------------


async def _chat(client: TestClient[Any, Any]) -> ChatClient:
    return await ChatClient.connect(client)


async def _answer(chat: ChatClient, text: str) -> dict[str, Any]:
    await chat.say(text)
    (reply,) = await chat.replies(1)
    return reply


async def test_web_chat_answers_requirements_fee_hours_and_location(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await _chat(client)

    requirements = await _answer(chat, "syarat bikin paspor apa aja")
    assert requirements["text"].startswith(f"Persyaratan {PASPOR.name_id}:")
    for item in PASPOR.requirements:
        assert f"- {item}" in requirements["text"]
    assert "Ambil antrean untuk layanan ini?" in requirements["text"]
    assert [(c["title"], c["payload"]) for c in requirements["choices"]] == [
        ("Ambil antrean", '/book_queue{"service": "paspor"}'),
        ("Biaya layanan", '/ask_fee{"service": "paspor"}'),
        ("Lokasi & loket", '/ask_location{"service": "paspor"}'),
    ]

    fee = await _answer(chat, "biaya skck brp")
    assert SKCK.fee in fee["text"] and "Rp30.000" in fee["text"]

    hours = await _answer(chat, "mpp buka jam brp")
    assert "Senin-Kamis: 08.00-15.00" in hours["text"]
    assert "Jumat: 08.00-13.00" in hours["text"]
    assert "Sabtu-Minggu: tutup" in hours["text"]

    location = await _answer(chat, "lokasi mpp dimana")
    assert ADDRESS in location["text"] and "Parkir:" in location["text"]
    await chat.close()


async def test_web_chat_asks_which_service_and_buttons_carry_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await _chat(client)

    question = await _answer(chat, "syaratnya apa ya")
    assert question["text"].startswith("Persyaratan untuk layanan apa?")
    offered = {c["title"]: c["payload"] for c in question["choices"]}
    assert len(offered) == 8
    assert offered["Paspor"] == '/ask_requirements{"service": "paspor"}'

    answer = await _answer(chat, "paspor")
    assert answer["text"].startswith(f"Persyaratan {PASPOR.name_id}:")

    await chat.choose('/ask_fee{"service": "kartu_keluarga"}', "Biaya layanan")
    (fee,) = await chat.replies(1)
    assert fee["text"].startswith(f"Biaya {KK.name_id}:\nGratis")
    await chat.close()


async def test_web_chat_answers_english_in_english(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    chat = await _chat(client)
    answer = await _answer(chat, "what documents do I need for a passport")
    assert answer["text"].startswith(f"Requirements for {PASPOR.name_en}:")
    assert "Book a queue for this service?" in answer["text"]
    assert [c["title"] for c in answer["choices"]] == [
        "Book a queue",
        "Fees",
        "Location & counters",
    ]
    await chat.close()


# --- conversations on SMS -----------------------------------------------------------------


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def test_sms_gets_short_answers_and_numbered_menus(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, twilio)))
    sms = SmsCitizen(client, twilio).say

    requirements = await sms("syarat bikin paspor apa aja")
    assert requirements.startswith("Syarat Paspor:\n- KTP-el yang masih berlaku\n")
    assert "Balas dengan angka:\n1. Ambil antrean\n2. Biaya layanan\n3. Lokasi & loket" in (
        requirements
    )
    fee = await sms("2")
    assert fee.startswith(f"Biaya Paspor: {PASPOR.fee}")

    question = await sms("syaratnya apa ya")
    assert question.startswith("Syarat layanan apa?")
    assert "1. KTP-el baru" in question and "4. Paspor" in question
    first = await sms("1")
    assert first.startswith("Syarat KTP-el baru:\n")
    assert twilio.messages[-1].field("To") == "+6281234567890"


# --- reloading the catalogue --------------------------------------------------------------


async def test_reload_takes_an_edited_catalogue_and_keeps_it_when_broken(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    catalogue = tmp_path / "services.yaml"
    shutil.copy(default_catalogue_path(), catalogue)
    client = await aiohttp_client(create_app(make_settings(catalogue={"path": str(catalogue)})))
    hub = client.app[HUB]
    chat = await _chat(client)
    assert "Rp30.000" in (await _answer(chat, "biaya skck brp"))["text"]

    text = catalogue.read_text(encoding="utf-8")
    edited = text.replace("fee: Rp30.000 (PNBP", "fee: Rp45.000 (PNBP").replace(
        '"skck", "sk ck",', '"skck", "sk ck", "surat polisi",'
    )
    assert edited != text
    catalogue.write_text(edited, encoding="utf-8")
    reloaded = await hub.reload_catalogue()
    assert reloaded.services["skck"].fee.startswith("Rp45.000")
    assert "Rp45.000" in (await _answer(chat, "biaya skck brp"))["text"]
    # A synonym added to the file is understood too: the entity extractor was rebuilt.
    assert "Rp45.000" in (await _answer(chat, "biaya surat polisi brp"))["text"]

    catalogue.write_text(edited.replace("services:\n", "services: [\n", 1), encoding="utf-8")
    with pytest.raises(CatalogueError):
        await hub.reload_catalogue()
    assert hub.catalogue is reloaded
    assert "Rp45.000" in (await _answer(chat, "biaya skck brp"))["text"]
    await chat.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_reloads_the_catalogue_on_sighup(tmp_path: Path, nlu_model_path: str) -> None:
    catalogue = tmp_path / "services.yaml"
    shutil.copy(default_catalogue_path(), catalogue)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    env.update(
        OMNIHUB_STORAGE__URL=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        OMNIHUB_CATALOGUE__PATH=str(catalogue),
        OMNIHUB_NLU__MODEL_PATH=nlu_model_path,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None

    def read_stderr() -> None:
        for line in proc.stderr or []:
            lines.put(line)

    reader = threading.Thread(target=read_stderr)
    reader.start()

    def wait_for_log(message: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line.startswith("{"):
                record: dict[str, Any] = json.loads(line)
                if record["msg"].startswith(message):
                    return record
        raise AssertionError(f"no log line {message!r}")

    try:
        wait_for_log("omnihub serving")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert resp.status == 200
        text = catalogue.read_text(encoding="utf-8")
        catalogue.write_text(text.replace("fee: Rp30.000", "fee: Rp45.000"), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        assert wait_for_log("catalogue reloaded")["level"] == "INFO"
        catalogue.write_text("services: [", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        warning = wait_for_log("catalogue not reloaded")
        assert warning["level"] == "WARNING" and "not valid YAML" in warning["msg"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)


def test_serve_refuses_a_broken_catalogue_in_one_line(tmp_path: Path) -> None:
    catalogue = tmp_path / "services.yaml"
    catalogue.write_text("services: [", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    env.update(
        OMNIHUB_STORAGE__URL=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        OMNIHUB_CATALOGUE__PATH=str(catalogue),
    )
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(_free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"omnihub: {catalogue}: not valid YAML")
    assert "Traceback" not in done.stderr

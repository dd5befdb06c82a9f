"""Subscribing in chat: the flow over the real subscription service (SQLite and PostgreSQL),
SMS opt-out keywords, the topics a message names, and the SMS texts' length.

Whole conversations on SMS, WhatsApp and the web chat are scenarios
(tests/scenarios/subscriptions.yaml); here the engine is driven with understood messages
(no NLU), and one SMS conversation runs through the hub while an officer holds it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.announcements import Subscriptions
from hub.announcements.topics import all_topics, find_topics
from hub.app import HUB, create_app
from hub.catalogue import load_catalogue
from hub.channels.base import Capabilities
from hub.channels.sms_text import is_gsm7, segments, to_gsm7
from hub.config import AnnouncementsConfig, Settings
from hub.dialogs.context import DialogContext
from hub.dialogs.engine import DialogEngine, Outcome, Turn
from hub.dialogs.offered import OFFERED_KEY
from hub.dialogs.scenarios import EndState, State, check_end_state
from hub.dialogs.subscriptions import STATE, consent_words, opt_out_keyword, own_topics
from hub.model import AddressKind, Reply
from hub.nlu.results import Entity, IntentScore, Parse
from hub.pipeline.render import Renderer
from hub.resources import default_catalogue_path, templates_dir
from hub.store import Database, contacts, migrate
from hub.store import conversations as conversation_store
from hub.store.tables import conversations, subscriptions
from tests.fakes.twilio import FakeTwilio
from tests.settle import settled
from tests.test_twilio import CITIZEN, WEBHOOK, fixture, post, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
CATALOGUE = load_catalogue(default_catalogue_path())
PHONE = "+6281234567890"
OFFERED = ["pengumuman", "jadwal", "disdukcapil", "imigrasi", "polres", "samsat", "bpjs_kesehatan"]
"""The topics offered without one named: the mall's, then the popular services' agencies."""


# --- the words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        (" Stop. ", "stop"),
        ("STOP ALL", "stopall"),
        ("stopall", "stopall"),
        ("BERHENTI", "berhenti"),
        ("berhenti!", "berhenti"),
        ("Unsubscribe", "unsubscribe"),
        ("CANCEL", "cancel"),
        ("end", "end"),
        ("QUIT", "quit"),
        ("stop info", None),
        ("berhenti langganan", None),
        ("batal", None),
        ("stop dulu ya", None),
        ("", None),
    ],
)
def test_sms_opt_out_keywords_are_whole_messages(text: str, keyword: str | None) -> None:
    assert opt_out_keyword("sms", text) == keyword


@pytest.mark.parametrize("channel", ["whatsapp", "webchat", "telegram", "email"])
def test_opt_out_keywords_are_an_sms_rule(channel: str) -> None:
    assert opt_out_keyword(channel, "STOP") is None


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("subscribe to immigration news", ["imigrasi"]),
        ("langganan pengumuman imigrasi", ["imigrasi"]),
        ("jadwal samsat", ["samsat"]),
        ("langganan pengumuman sama imigrasi", ["pengumuman", "imigrasi"]),
        ("kirimin info libur sama pengumuman", ["pengumuman", "jadwal"]),
        ("news and closures please", ["pengumuman", "jadwal"]),
        ("langganan info", []),
    ],
)
def test_the_mall_s_topics_named_only_to_qualify_an_agency_are_not_asked_for(
    text: str, topics: list[str]
) -> None:
    every = all_topics(AnnouncementsConfig(), CATALOGUE)
    assert [t.id for t in own_topics(text, find_topics(text, every))] == topics


def test_consent_words_keep_the_choice_made() -> None:
    assert consent_words(" langganan info samsat ", None) == "langganan info samsat"
    chosen = '/subscribe{"topic": "imigrasi"}'
    assert consent_words("4", chosen) == f"4 ({chosen})"
    assert consent_words("", chosen) == chosen


# --- the flow over the service ----------------------------------------------------------------


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def service(db: Database) -> Subscriptions:
    return Subscriptions(db, AnnouncementsConfig(), CATALOGUE, clock=lambda: NOW)


@pytest.fixture
def engine(service: Subscriptions) -> DialogEngine:
    return DialogEngine(catalogue=CATALOGUE, subscriptions=service)


class Citizen:
    """One citizen talking to the engine; the dialog state carried from turn to turn."""

    def __init__(self, engine: DialogEngine, contact_id: int, channel: str) -> None:
        self.engine, self.channel = engine, channel
        self.context = DialogContext(
            contact_id=contact_id,
            conversation_id=1,
            channel=channel,
            today=NOW.date(),
            now=NOW,
            address=PHONE,
        )
        self.state: dict[str, Any] = {}

    async def say(
        self,
        text: str,
        intent: str = "out_of_scope",
        confidence: float = 0.95,
        services: tuple[str, ...] = (),
    ) -> Outcome:
        entities = tuple(Entity("service", s, s, 0, len(s)) for s in services)
        parse = Parse(text, IntentScore(intent, confidence), entities=entities)
        return await self._turn(Turn(text, None, self.channel, "id", ("id", "en"), parse))

    async def choose(self, payload: str, title: str = "") -> Outcome:
        return await self._turn(Turn(title, payload, self.channel, "id", ("id", "en")))

    async def _turn(self, turn: Turn) -> Outcome:
        outcome = await self.engine.respond(turn, self.state, "id", self.context)
        self.state = outcome.state
        return outcome


@pytest.fixture
async def citizen(db: Database, engine: DialogEngine) -> Citizen:
    async with db.begin() as conn:
        contact = await contacts.resolve_contact(db, conn, "sms", PHONE)
    return Citizen(engine, contact, "sms")


def templates(outcome: Outcome) -> list[str]:
    return [r.template for r in outcome.replies]


async def test_a_named_topic_subscribes_at_once_with_its_consent(
    citizen: Citizen, service: Subscriptions, db: Database
) -> None:
    outcome = await citizen.say("langganan info imigrasi", "subscribe")

    assert templates(outcome) == ["subscribed"]
    assert dict(outcome.replies[0].context) == {"added": ["Imigrasi"], "already": []}
    assert STATE not in outcome.state
    [record] = await service.consents(citizen.context.contact_id)
    assert (record.action, record.topic, record.channel, record.source, record.words) == (
        "subscribe",
        "imigrasi",
        "sms",
        "chat",
        "langganan info imigrasi",
    )
    async with db.engine.connect() as conn:
        [row] = (await conn.execute(sa.select(subscriptions))).all()
    assert (row.topic, row.channel, row.address) == ("imigrasi", "sms", PHONE)

    again = await citizen.say("langganan imigrasi", "subscribe")
    assert dict(again.replies[0].context) == {"added": [], "already": ["Imigrasi"]}


async def test_a_service_names_its_agency(citizen: Citizen, service: Subscriptions) -> None:
    outcome = await citizen.say("langganan info paspor", "subscribe", services=("paspor",))
    assert dict(outcome.replies[0].context)["added"] == ["Imigrasi"]
    assert [t.id for t in await service.held(citizen.context.contact_id)] == ["imigrasi"]


async def test_no_topic_offers_them_and_a_digit_picks_one(
    citizen: Citizen, service: Subscriptions
) -> None:
    asked = await citizen.say("mau langganan", "subscribe")

    [question] = asked.replies
    assert question.template == "subscription_ask_topic"
    payloads = [c.payload for c in question.choices]
    assert payloads == [
        *(f"/subscribe{json.dumps({'topic': t})}" for t in OFFERED),
        '/subscribe{"option": "all"}',
    ]
    assert asked.state[STATE] == {"stage": "topic"}
    assert await service.held(citizen.context.contact_id) == []

    chosen = await citizen.say("4")

    assert templates(chosen) == ["subscribed"]
    assert STATE not in chosen.state
    [record] = await service.consents(citizen.context.contact_id)
    assert (record.topic, record.words) == ("imigrasi", '4 (/subscribe{"topic": "imigrasi"})')


async def test_the_question_waits_for_its_answer(citizen: Citizen, service: Subscriptions) -> None:
    await citizen.say("langganan dong", "subscribe")

    unclear = await citizen.say("asdfgh", "out_of_scope", 0.2)
    assert templates(unclear) == ["subscription_ask_topic"]
    lead = unclear.replies[0].lead
    assert lead is not None and dict(lead.context)["why"] == "unclear"
    assert unclear.state[STATE] == {"stage": "topic"}

    thanks = await citizen.say("makasih", "thanks")
    assert templates(thanks) == ["subscription_ask_topic"]

    named = await citizen.say("samsat", "inform", 0.6)
    assert dict(named.replies[0].context)["added"] == ["Samsat"]
    assert [t.id for t in await service.held(citizen.context.contact_id)] == ["samsat"]


async def test_a_cancel_leaves_the_question_with_nothing_subscribed(
    citizen: Citizen, service: Subscriptions
) -> None:
    await citizen.say("langganan", "subscribe")
    left = await citizen.say("gajadi deh", "deny")
    assert templates(left) == ["subscription_left", "menu"]
    assert STATE not in left.state
    assert await service.consents(citizen.context.contact_id) == []


async def test_all_subscribes_to_every_topic(citizen: Citizen, service: Subscriptions) -> None:
    await citizen.say("langganan", "subscribe")
    await citizen.choose('/subscribe{"option": "all"}', "Semua info")
    held = [t.id for t in await service.held(citizen.context.contact_id)]
    assert held == [t.id for t in service.topics()]
    consents = await service.consents(citizen.context.contact_id)
    assert {c.words for c in consents} == {'Semua info (/subscribe{"option": "all"})'}


async def test_unsubscribe_without_a_topic_stops_everything_and_with_one_only_that(
    citizen: Citizen, service: Subscriptions
) -> None:
    contact = citizen.context.contact_id
    await citizen.say("langganan info samsat, imigrasi dan jadwal", "subscribe")

    one = await citizen.say("stop info samsat", "unsubscribe")
    assert dict(one.replies[0].context) == {
        "everything": False,
        "removed": ["Samsat"],
        "not_held": [],
        "left": ["Jadwal buka dan hari libur", "Imigrasi"],
    }
    not_held = await citizen.say("stop info pln", "unsubscribe")
    assert dict(not_held.replies[0].context)["not_held"] == ["PLN"]

    everything = await citizen.say("berhenti langganan", "unsubscribe")
    context = dict(everything.replies[0].context)
    assert context["everything"] and context["left"] == []
    assert sorted(context["removed"]) == ["Imigrasi", "Jadwal buka dan hari libur"]
    assert await service.held(contact) == []
    last = (await service.consents(contact))[-1]
    assert (last.action, last.topic, last.source) == ("unsubscribe", None, "chat")

    listed = await citizen.say("sy langganan apa aja", "list_subscriptions")
    assert dict(listed.replies[0].context) == {"held": []}
    assert [c.payload for c in listed.replies[0].choices] == ["/subscribe"]


async def test_the_list_offers_to_stop_each_and_all(citizen: Citizen) -> None:
    await citizen.say("langganan jadwal dan pengumuman", "subscribe")
    listed = await citizen.say("langganan saya", "list_subscriptions")
    assert [(c.title, c.payload) for c in listed.replies[0].choices] == [
        (
            "@subscription.stop_one|Pengumuman umum MPP Badung",
            '/unsubscribe{"topic": "pengumuman"}',
        ),
        ("@subscription.stop_one|Jadwal buka dan hari libur", '/unsubscribe{"topic": "jadwal"}'),
        ("@subscription.stop_all", '/unsubscribe{"option": "all"}'),
    ]


async def test_sms_stop_stops_everything_as_an_sms_stop(
    citizen: Citizen, service: Subscriptions
) -> None:
    contact = citizen.context.contact_id
    await citizen.say("langganan jadwal", "subscribe")
    citizen.state[OFFERED_KEY] = ["/ask_service_info", "/book_queue"]  # a menu offered last

    stopped = await citizen.say("STOP", "out_of_scope", 0.1)

    assert templates(stopped) == ["subscription_stopped"]
    assert stopped.understanding.intent == IntentScore("unsubscribe", 1.0)
    assert stopped.understanding.engine == "sms_stop"
    assert stopped.state[OFFERED_KEY] == ["/ask_service_info", "/book_queue"], "digits still work"
    assert await service.held(contact) == []
    last = (await service.consents(contact))[-1]
    assert (last.action, last.topic, last.channel, last.source, last.words) == (
        "unsubscribe",
        None,
        "sms",
        "sms_stop",
        "STOP",
    )


async def test_sms_stop_drops_a_pending_topic_question(citizen: Citizen) -> None:
    await citizen.say("mau langganan", "subscribe")
    stopped = await citizen.say("berhenti")
    assert templates(stopped) == ["subscription_stopped"]
    assert STATE not in stopped.state


async def test_stop_elsewhere_is_read_by_the_nlu(
    db: Database, engine: DialogEngine, service: Subscriptions
) -> None:
    async with db.begin() as conn:
        contact = await contacts.resolve_contact(db, conn, "webchat", "visitor-9")
    chat = Citizen(engine, contact, "webchat")
    await chat.say("langganan pengumuman", "subscribe")
    stopped = await chat.say("STOP", "unsubscribe")
    assert templates(stopped) == ["unsubscribed"]
    last = (await service.consents(contact))[-1]
    assert (last.channel, last.source) == ("webchat", "chat")


def test_without_the_service_subscribing_is_not_available() -> None:
    engine = DialogEngine(catalogue=CATALOGUE)
    parse = Parse("langganan info", IntentScore("subscribe", 0.9))
    outcome = engine.handle(
        Turn("langganan info", None, "sms", "id", ("id", "en"), parse), {}, "id"
    )
    assert templates(outcome) == ["not_ready", "menu"]
    assert dict(outcome.replies[0].context) == {"feature": "subscribe"}


# --- through the hub: STOP while an officer holds the conversation -------------------------------


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def test_sms_stop_is_honoured_while_an_officer_holds_the_conversation(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(
        create_app(settings_for(make_settings, twilio), clock=lambda: NOW)
    )
    hub = client.app[HUB]
    sent = 0

    async def sms(text: str) -> list[str]:
        nonlocal sent
        seen = len(twilio.messages)
        sent += 1
        params = fixture("sms_text", MessageSid=f"SM{sent:032x}", Body=text)
        assert (await post(client, WEBHOOK, params)).status == 200
        await settled(hub, 15.0)
        return [m.field("Body") for m in twilio.messages[seen:]]

    [subscribed] = await sms("langganan info imigrasi")
    assert "berlangganan info Imigrasi" in subscribed
    async with hub.db.engine.connect() as conn:
        [row] = (await conn.execute(sa.select(subscriptions))).all()
    assert (row.topic, row.channel, row.address) == ("imigrasi", "sms", CITIZEN)

    await sms("saya mau bicara dengan petugas")
    async with hub.db.begin() as conn:
        conversation = (await conn.execute(sa.select(conversations))).one()
        assert conversation.status == "handoff"
        assert await conversation_store.claim(conn, conversation.id, 7, NOW)
    assert await sms("halo, masih di sana?") == [], "an officer holds it: the bot is silent"

    [stopped] = await sms("STOP")

    assert stopped.startswith("Semua langganan info MPP Badung dihentikan.")
    assert segments(stopped) == 1
    contact = conversation.contact_id
    assert await hub.subscriptions.held(contact) == []
    last = (await hub.subscriptions.consents(contact))[-1]
    assert (last.topic, last.channel, last.source, last.words) == (None, "sms", "sms_stop", "STOP")
    async with hub.db.engine.connect() as conn:
        status = await conn.scalar(sa.select(conversations.c.status))
    assert status == "officer", "the officer keeps the conversation"


# --- SMS texts ----------------------------------------------------------------------------------

SMS = Capabilities(max_text_length=459, buttons=False, address_kind=AddressKind.PHONE)
LONG = "KTP-el penggantian (hilang/rusak)"
FLOWS = [
    None,
    {"flow": "booking", "mode": "book", "service": LONG, "code": ""},
    {"flow": "booking", "mode": "reschedule", "service": "", "code": "B-7Q4M2X"},
    {"flow": "booking", "mode": "cancel", "service": "", "code": "B-7Q4M2X"},
    {"flow": "care", "kind": "complaint", "service": LONG},
    {"flow": "care", "kind": "appreciation", "service": LONG},
]


def subscription_sms_contexts() -> dict[str, list[dict[str, Any]]]:
    """Plausible contexts of the subscription replies (tests/test_sms_text.py renders them)."""
    one, two = ["Imigrasi"], ["Jadwal buka dan hari libur", "Pengumuman umum MPP Badung"]
    many = [t.name_id for t in all_topics(AnnouncementsConfig(), CATALOGUE)]
    return {
        "subscription_ask_topic": [{"others": ["BPJS", "BPN"], "more": True}],
        "subscribed": [
            {"added": one, "already": []},
            {"added": two, "already": one},
            {"added": [], "already": two},
            {"added": many, "already": []},
        ],
        "unsubscribed": [
            {"everything": True, "removed": two, "not_held": [], "left": []},
            {"everything": True, "removed": [], "not_held": [], "left": []},
            {"everything": False, "removed": one, "not_held": [], "left": two},
            {"everything": False, "removed": [], "not_held": one, "left": []},
        ],
        "subscriptions_list": [{"held": []}, {"held": one}, {"held": two}, {"held": many}],
        "subscription_stopped": [{"removed": two, "flow": flow} for flow in FLOWS],
    }


@pytest.mark.parametrize("locale", ["id", "en"])
def test_sms_subscription_replies_fit_one_segment(locale: str) -> None:
    """An opt-out confirmation is one segment whatever flow goes on (operators' rule);
    the other replies too, without their numbered choices."""
    renderer = Renderer(templates_dir())
    checked = 0
    for key, contexts in subscription_sms_contexts().items():
        if key == "subscription_ask_topic":
            continue  # a question with 8 numbered topics: two segments
        for context in contexts:
            [message] = renderer.render(
                Reply(key, context), locale=locale, channel="sms", recipient=PHONE, capabilities=SMS
            )
            text = to_gsm7(message.text)
            assert is_gsm7(text) and segments(text) == 1, (key, context, text)
            checked += 1
    assert checked >= 15


# --- scenario end_state ---------------------------------------------------------------------


def test_scenario_end_state_checks_consents_with_word_patterns() -> None:
    expected = EndState.model_validate(
        {
            "subscriptions": [],
            "consents": [
                {"action": "unsubscribe", "topic": "all", "source": "sms_stop", "words": "^stop$"}
            ],
        }
    )
    stop = {"action": "unsubscribe", "topic": "all", "channel": "sms", "source": "sms_stop"}
    assert check_end_state(expected, State(None, [], [], [], [{**stop, "words": "STOP"}])) is None
    wrong = check_end_state(expected, State(None, [], [], [], [{**stop, "words": "stop info"}]))
    assert wrong is not None and "end_state.consents" in wrong
    held = check_end_state(expected, State(None, [], [], [{"topic": "jadwal"}], [stop]))
    assert held is not None and "end_state.subscriptions" in held

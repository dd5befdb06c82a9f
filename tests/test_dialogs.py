"""The dialog engine chooses by intent and asks when the NLU is unsure."""

from __future__ import annotations

from typing import Any

import pytest

from hub.dialogs.engine import FEATURE_OF, MENU_INTENTS, DialogEngine, Outcome, Turn
from hub.nlu.language import clear_language
from hub.nlu.results import IntentScore, Parse


def understood(
    intent: str,
    confidence: float = 0.9,
    *,
    locale: str | None = None,
    ranking: tuple[tuple[str, float], ...] = (),
) -> Parse:
    scores = tuple(IntentScore(n, c) for n, c in ranking) or (IntentScore(intent, confidence),)
    return Parse(text="…", intent=IntentScore(intent, confidence), ranking=scores, locale=locale)


def turn(parse: Parse | None = None, payload: str | None = None) -> Turn:
    return Turn(
        text="…",
        choice_payload=payload,
        channel="webchat",
        default_locale="id",
        supported_locales=("id", "en"),
        parse=parse,
    )


def templates(outcome: Outcome) -> list[str]:
    return [reply.template for reply in outcome.replies]


@pytest.fixture
def engine() -> DialogEngine:
    return DialogEngine(threshold=0.4)


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ("greet", ["greet", "menu"]),
        ("help", ["menu"]),
        ("thanks", ["thanks"]),
        ("goodbye", ["goodbye"]),
        ("out_of_scope", ["fallback", "menu"]),
        ("inform", ["fallback", "menu"]),
        ("ask_requirements", ["ask_which_service"]),
        ("ask_hours", ["info_mall_hours"]),
        ("ask_location", ["info_mall_location"]),
        ("ask_service_info", ["info_offer"]),
        ("cancel_booking", ["not_ready", "menu"]),
        ("give_appreciation", ["not_ready", "menu"]),
    ],
)
def test_replies_follow_the_intent(engine: DialogEngine, intent: str, expected: list[str]) -> None:
    assert templates(engine.handle(turn(understood(intent)), {}, "id")) == expected


@pytest.mark.parametrize("intent", sorted(FEATURE_OF))
def test_features_not_built_yet_are_named(engine: DialogEngine, intent: str) -> None:
    outcome = engine.handle(turn(understood(intent)), {}, "id")
    assert outcome.replies[0].context["feature"] in MENU_INTENTS


def test_low_confidence_asks_between_the_two_likeliest(engine: DialogEngine) -> None:
    parse = understood(
        "ask_fee",
        0.31,
        ranking=(
            ("ask_fee", 0.31),
            ("out_of_scope", 0.3),
            ("ask_requirements", 0.22),
            ("book_queue", 0.1),
        ),
    )
    outcome = engine.handle(turn(parse), {}, "id")
    assert templates(outcome) == ["clarify"]
    assert [c.payload for c in outcome.replies[0].choices] == ["/ask_fee", "/ask_requirements"]
    assert [c.title for c in outcome.replies[0].choices] == [
        "@intent.ask_fee",
        "@intent.ask_requirements",
    ]


def test_confident_enough_does_not_ask(engine: DialogEngine) -> None:
    parse = understood("ask_fee", 0.41, ranking=(("ask_fee", 0.41), ("ask_requirements", 0.4)))
    assert templates(engine.handle(turn(parse), {}, "id")) == ["ask_which_service"]


def test_implausible_second_reading_is_not_offered(engine: DialogEngine) -> None:
    parse = understood(
        "file_complaint",
        0.26,
        ranking=(("file_complaint", 0.26), ("out_of_scope", 0.25), ("greet", 0.05)),
    )
    assert templates(engine.handle(turn(parse), {}, "id")) == ["fallback", "menu"]


def test_unsure_between_nothing_askable_falls_back(engine: DialogEngine) -> None:
    parse = understood(
        "out_of_scope", 0.2, ranking=(("out_of_scope", 0.2), ("inform", 0.19), ("greet", 0.1))
    )
    assert templates(engine.handle(turn(parse), {}, "id")) == ["fallback", "menu"]


def test_a_chosen_payload_wins_over_the_text(engine: DialogEngine) -> None:
    outcome = engine.handle(turn(understood("greet"), payload="/book_queue"), {}, "id")
    assert templates(outcome) == ["not_ready", "menu"]
    assert outcome.understanding.intent == IntentScore("book_queue", 1.0)


def test_language_follows_the_message_and_stays_when_unclear(engine: DialogEngine) -> None:
    english = engine.handle(turn(understood("greet", locale="en")), {}, "id")
    assert english.locale == "en"
    unclear = engine.handle(turn(understood("affirm", locale=None)), english.state, english.locale)
    assert unclear.locale == "en"
    unsupported = engine.handle(turn(understood("greet", locale="fr")), {}, "id")
    assert unsupported.locale == "id"
    assert engine.handle(turn(understood("greet")), {}, "xx").locale == "id"


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        # One borrowed word or a name keeps the conversation's language.
        ("booking", "id", "id"),
        ("ok", "id", "id"),
        ("thanks", "id", "id"),
        ("thank you", "id", "id"),
        ("Made Sudiarta", "id", "id"),
        ("booking B-US8NEL", "id", "id"),
        ("terima kasih", "en", "en"),
        ("ok makasih", "en", "en"),
        ("suksma", "en", "en"),
        # A sentence changes it; Balinese is Indonesian.
        ("how much does a passport cost?", "id", "en"),
        ("hello, good morning", "id", "en"),
        ("saya mau antri ktp besok", "en", "id"),
        ("tiang nunas info kk nggih", "en", "id"),
    ],
)
def test_the_language_changes_only_on_a_clear_sentence(
    engine: DialogEngine, text: str, locale: str, expected: str
) -> None:
    parse = understood("ask_fee", locale=clear_language(text))
    assert engine.handle(turn(parse), {}, locale).locale == expected


def test_second_greeting_is_a_returning_one_and_fallbacks_count(engine: DialogEngine) -> None:
    first = engine.handle(turn(understood("greet")), {}, "id")
    again = engine.handle(turn(understood("greet")), first.state, "id")
    assert first.replies[0].context["returning"] is False
    assert again.replies[0].context["returning"] is True
    miss = engine.handle(turn(understood("out_of_scope")), {}, "id")
    miss_again = engine.handle(turn(understood("out_of_scope")), miss.state, "id")
    assert [o.replies[0].context["repeated"] for o in (miss, miss_again)] == [False, True]


def test_handle_does_not_change_the_given_state(engine: DialogEngine) -> None:
    state: dict[str, Any] = {"turns": 3, "fallbacks": 1}
    engine.handle(turn(understood("out_of_scope")), state, "id")
    assert state == {"turns": 3, "fallbacks": 1}


def test_menu_offers_the_five_features(engine: DialogEngine) -> None:
    menu = engine.handle(turn(understood("help")), {}, "id").replies[0]
    assert [c.payload for c in menu.choices] == [
        "/ask_service_info",
        "/book_queue",
        "/file_complaint",
        "/talk_to_human",
        "/subscribe",
    ]


def test_no_understanding_is_out_of_scope(engine: DialogEngine) -> None:
    assert templates(engine.handle(turn(None), {}, "id")) == ["fallback", "menu"]

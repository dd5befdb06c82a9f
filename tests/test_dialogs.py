"""The keyword matcher and the dialog engine (pure: no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.dialogs.engine import MENU_INTENTS, DialogEngine, Outcome, Turn
from hub.dialogs.keywords import KeywordMatcher, guess_language

MENU_PAYLOADS = ["/ask_service_info", "/book_queue", "/file_complaint", "/talk_to_human"]


def turn(
    text: str = "",
    payload: str | None = None,
    *,
    supported: tuple[str, ...] = ("id", "en"),
    default: str = "id",
) -> Turn:
    return Turn(
        text=text,
        choice_payload=payload,
        channel="cli",
        default_locale=default,
        supported_locales=supported,
    )


@pytest.fixture
def engine() -> DialogEngine:
    return DialogEngine()


def templates(outcome: Outcome) -> list[str]:
    return [reply.template for reply in outcome.replies]


# --- keyword matcher -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("halo", "greet"),
        ("Halo!", "greet"),
        ("selamat pagi", "greet"),
        ("Om Swastiastu", "greet"),
        ("hi", "greet"),
        ("hello", "greet"),
        ("Good morning", "greet"),
        ("menu", "help"),
        ("MENU", "help"),
        ("help", "help"),
        ("bantuan", "help"),
        ("makasih", "thanks"),
        ("terima kasih", "thanks"),
        ("Terima kasih banyak ya", "thanks"),
        ("thanks", "thanks"),
        ("thank you", "thanks"),
        ("bye", "goodbye"),
        ("Berapa biaya membuat KTP elektronik di Badung?", "out_of_scope"),
        ("the weather in Kuta is lovely today", "out_of_scope"),
        ("ok", "out_of_scope"),
        ("", "out_of_scope"),
    ],
)
def test_keyword_intents(text: str, intent: str) -> None:
    assert KeywordMatcher().parse(text).intent == intent


def test_known_intents_are_confident_and_unknown_ones_are_not() -> None:
    matcher = KeywordMatcher()
    assert matcher.parse("halo").confidence > matcher.parse("cuaca hari ini").confidence


def test_a_long_sentence_with_a_greeting_word_is_not_a_greeting() -> None:
    text = "selamat siang saya ingin membuat KTP baru untuk anak saya"
    assert KeywordMatcher().parse(text).intent == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hello, what can you do", "en"),
        ("I need help with my queue", "en"),
        ("saya mau tanya", "id"),
        ("bagaimana cara bikin KTP", "id"),
        ("ok", None),
        ("", None),
        ("KTP", None),
    ],
)
def test_guess_language(text: str, language: str | None) -> None:
    assert guess_language(text) == language


def test_matcher_reports_the_language() -> None:
    matcher = KeywordMatcher()
    assert matcher.parse("hello").locale == "en"
    assert matcher.parse("halo").locale == "id"
    assert matcher.parse("menu").locale is None


# --- engine ------------------------------------------------------------------------------


def test_english_greeting_sets_english_and_shows_the_menu(engine: DialogEngine) -> None:
    outcome = engine.handle(turn("hello"), {}, "id")
    assert outcome.locale == "en"
    assert outcome.understanding.intent == "greet"
    assert templates(outcome) == ["greet", "menu"]
    assert outcome.replies[0].context["returning"] is False
    assert outcome.state["turns"] == 1
    assert outcome.handoff is False


def test_ambiguous_follow_up_keeps_the_locale(engine: DialogEngine) -> None:
    first = engine.handle(turn("hello"), {}, "id")
    second = engine.handle(turn("ok"), first.state, first.locale)
    assert second.locale == "en"
    again = engine.handle(turn("menu"), second.state, second.locale)
    assert again.locale == "en"
    switched = engine.handle(turn("saya mau tanya"), again.state, again.locale)
    assert switched.locale == "id"


def test_unsupported_language_is_not_adopted(engine: DialogEngine) -> None:
    outcome = engine.handle(turn("hello", supported=("id",)), {}, "id")
    assert outcome.locale == "id"


def test_unsupported_current_locale_falls_back_to_default(engine: DialogEngine) -> None:
    outcome = engine.handle(turn("ok"), {}, "fr")
    assert outcome.locale == "id"


def test_second_greeting_is_a_returning_one(engine: DialogEngine) -> None:
    first = engine.handle(turn("halo"), {}, "id")
    second = engine.handle(turn("halo"), first.state, first.locale)
    assert first.replies[0].context["returning"] is False
    assert second.replies[0].context["returning"] is True
    assert second.state["turns"] == 2


@pytest.mark.parametrize("intent", MENU_INTENTS)
def test_menu_payload_is_not_ready_yet(engine: DialogEngine, intent: str) -> None:
    outcome = engine.handle(turn("2", f"/{intent}"), {}, "id")
    assert outcome.understanding.intent == intent
    assert outcome.understanding.confidence == 1.0
    assert templates(outcome) == ["not_ready", "menu"]
    assert outcome.replies[0].context["feature"] == intent


def test_book_queue_payload(engine: DialogEngine) -> None:
    outcome = engine.handle(turn("", "/book_queue"), {}, "en")
    assert [(r.template, dict(r.context)) for r in outcome.replies[:1]] == [
        ("not_ready", {"feature": "book_queue"})
    ]
    assert outcome.replies[1].template == "menu"
    assert outcome.locale == "en"


def test_payload_wins_over_text(engine: DialogEngine) -> None:
    outcome = engine.handle(turn("terima kasih", "/talk_to_human"), {}, "id")
    assert outcome.understanding.intent == "talk_to_human"


def test_repeated_fallback(engine: DialogEngine) -> None:
    first = engine.handle(turn("cuaca hari ini bagus sekali ya"), {}, "id")
    assert templates(first) == ["fallback", "menu"]
    assert first.replies[0].context["repeated"] is False
    second = engine.handle(turn("xyz qwerty"), first.state, first.locale)
    assert templates(second) == ["fallback", "menu"]
    assert second.replies[0].context["repeated"] is True
    assert second.state["fallbacks"] == 2


def test_handle_does_not_change_the_given_state(engine: DialogEngine) -> None:
    state: dict[str, Any] = {"turns": 3, "fallbacks": 1}
    outcome = engine.handle(turn("xyz"), state, "id")
    assert state == {"turns": 3, "fallbacks": 1}
    assert outcome.state == {"turns": 4, "fallbacks": 2}


@pytest.mark.parametrize("text", ["menu", "bantuan", "help"])
def test_help_is_the_menu(engine: DialogEngine, text: str) -> None:
    assert templates(engine.handle(turn(text), {}, "id")) == ["menu"]


@pytest.mark.parametrize(("text", "template"), [("makasih", "thanks"), ("bye", "goodbye")])
def test_thanks_and_goodbye_have_no_menu(engine: DialogEngine, text: str, template: str) -> None:
    outcome = engine.handle(turn(text), {}, "id")
    assert templates(outcome) == [template]
    assert outcome.replies[0].choices == ()


def test_menu_reply_offers_four_choices(engine: DialogEngine) -> None:
    [menu] = engine.handle(turn("menu"), {}, "id").replies
    assert menu.template == "menu"
    assert len(menu.choices) == 4
    assert [c.payload for c in menu.choices] == MENU_PAYLOADS
    assert all(c.title.startswith("@menu.") for c in menu.choices)
    assert [c.title for c in menu.choices] == [f"@menu.{p[1:]}" for p in MENU_PAYLOADS]

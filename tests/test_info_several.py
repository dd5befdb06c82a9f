"""Information beyond one intent about one service: out-of-scope questions, several services."""

from __future__ import annotations

import pytest

from hub.dialogs.engine import DialogEngine, Outcome, Turn
from hub.nlu.results import Entity, IntentScore, Parse


def understood(intent: str, text: str, services: tuple[str, ...] = ()) -> Parse:
    entities = tuple(Entity("service", s, s, 0, len(s)) for s in services)
    score = IntentScore(intent, 0.9)
    return Parse(text=text, intent=score, ranking=(score,), entities=entities, locale="id")


def turn(parse: Parse) -> Turn:
    return Turn(
        text=parse.text,
        choice_payload=None,
        channel="webchat",
        default_locale="id",
        supported_locales=("id", "en"),
        parse=parse,
    )


def templates(outcome: Outcome) -> list[str]:
    return [reply.template for reply in outcome.replies]


@pytest.fixture(scope="module")
def engine() -> DialogEngine:
    return DialogEngine()


@pytest.mark.parametrize(
    "text", ["bisa perpanjang kitas di sini?", "besok hujan ga di canggu", "where can I get a visa"]
)
def test_an_out_of_scope_question_is_told_so_and_not_counted(
    engine: DialogEngine, text: str
) -> None:
    outcome = engine.handle(turn(understood("out_of_scope", text)), {"fallbacks": 1}, "id")
    assert templates(outcome) == ["out_of_scope", "menu"]
    assert "fallbacks" not in outcome.state, "an understood question clears the count"


@pytest.mark.parametrize("text", ["asdfgh qwerty", "xyzzy", "??"])
def test_a_random_string_is_still_not_understood(engine: DialogEngine, text: str) -> None:
    outcome = engine.handle(turn(understood("out_of_scope", text)), {}, "id")
    assert templates(outcome) == ["fallback", "menu"]
    assert outcome.state["fallbacks"] == 1


def test_an_info_question_naming_two_services_answers_both(engine: DialogEngine) -> None:
    parse = understood("ask_requirements", "syarat ktp sama kk", ("ktp_el_baru", "kartu_keluarga"))
    outcome = engine.handle(turn(parse), {}, "id")
    assert templates(outcome) == ["info_requirements", "info_requirements"]
    assert [r.context["service"]["id"] for r in outcome.replies] == [
        "ktp_el_baru",
        "kartu_keluarga",
    ]


def test_the_same_service_twice_is_answered_once(engine: DialogEngine) -> None:
    parse = understood("ask_fee", "biaya paspor, paspor elektronik", ("paspor", "paspor"))
    outcome = engine.handle(turn(parse), {}, "id")
    assert templates(outcome) == ["info_fee"]

"""The choices a conversation was offered last live in the dialog state, owned by the dialogs."""

from __future__ import annotations

from typing import Any

from hub.dialogs.offered import (
    OFFERED_KEY,
    after_notice,
    numbered_choice,
    remember_offered,
    take_offered,
)
from hub.model import Choice, Reply

MENU = Reply("menu", choices=(Choice("Biaya", "/ask_fee"), Choice("Jam", "/ask_hours")))


def test_a_digit_picks_from_what_was_offered_last() -> None:
    state: dict[str, Any] = {"topic": "paspor"}
    remember_offered(state, [MENU])
    offered = take_offered(state)
    assert state == {"topic": "paspor"}, "taken: a later digit means nothing"
    assert numbered_choice(" 2. ", offered) == "/ask_hours"
    assert numbered_choice("3", offered) is None
    assert numbered_choice("0", offered) is None
    assert numbered_choice("2 orang", offered) is None
    assert numbered_choice("1", None) is None


def test_a_reply_without_choices_leaves_nothing_to_pick() -> None:
    state: dict[str, Any] = {}
    remember_offered(state, [Reply("greet")])
    assert OFFERED_KEY not in state
    state[OFFERED_KEY] = "not a list"
    assert take_offered(state) is None


def test_a_notice_keeps_the_state_and_adds_its_question_and_choices() -> None:
    before = {"topic": "skck"}
    after = after_notice(before, [MENU], {"awaiting_rating": "CARE-1"})
    assert after == {
        "topic": "skck",
        "awaiting_rating": "CARE-1",
        OFFERED_KEY: ["/ask_fee", "/ask_hours"],
    }
    assert before == {"topic": "skck"}, "the stored state is not changed in place"
    assert after_notice(before, [Reply("booking_reminder")]) is None, "nothing to store"

"""The scenario checks themselves: each can fail, and says why."""

from __future__ import annotations

from hub.dialogs.scenarios import (
    EndState,
    Reply,
    State,
    Turn,
    check_end_state,
    check_turn,
)

BOOKED = {"service_id": "paspor", "status": "booked", "session": "pagi", "channel": "sms"}
CANCELLED = {**BOOKED, "status": "cancelled"}


def end_state(**data: object) -> EndState:
    return EndState.model_validate(data)


def test_expect_patterns_match_anywhere_in_all_replies_and_button_titles() -> None:
    turn = Turn(say="halo", expect=["menu", "^Ambil antrean$", "SELAMAT"])
    replies = [Reply("Selamat datang"), Reply("Ini menu:", ("Info layanan", "Ambil antrean"))]
    assert check_turn(turn, replies) is None


def test_a_missing_pattern_a_forbidden_pattern_and_silence_each_fail() -> None:
    assert "expected /biaya/" in str(check_turn(Turn(say="x", expect=["biaya"]), [Reply("a")]))
    forbidden = check_turn(
        Turn(say="x", not_expect=["belum memahami"]), [Reply("Saya belum memahami")]
    )
    assert "did not expect /belum memahami/" in str(forbidden)
    assert check_turn(Turn(say="x"), []) == "no reply to 'x'"


def test_end_state_lists_exactly_the_rows_in_any_order() -> None:
    expected = end_state(bookings=[{"status": "cancelled"}, {"service_id": "paspor"}])
    assert check_end_state(expected, State(None, [BOOKED, CANCELLED], [])) is None
    assert "1 found, expected 2" in str(check_end_state(expected, State(None, [BOOKED], [])))
    twice = check_end_state(expected, State(None, [BOOKED, BOOKED], []))
    assert "none matches {'status': 'cancelled'}" in str(twice)
    none = check_end_state(end_state(tickets=[]), State(None, [], [{"kind": "complaint"}]))
    assert str(none).startswith("end_state.tickets: 1 found, expected 0")


def test_end_state_conversation_fields_are_compared() -> None:
    expected = end_state(conversation={"status": "handoff"})
    assert check_end_state(expected, State({"status": "handoff", "channel": "sms"}, [], [])) is None
    wrong = check_end_state(expected, State({"status": "bot", "channel": "sms"}, [], []))
    assert wrong == "end_state.conversation: status is 'bot', expected 'handoff'"
    assert (
        check_end_state(expected, State(None, [], [])) == "end_state.conversation: no conversation"
    )


def test_tickets_are_checked_on_priority_and_object() -> None:
    row = {"kind": "complaint", "priority": "high", "object": "officer", "needs_supervisor": False}
    wanted = end_state(tickets=[{"priority": "high", "object": "officer"}])
    assert check_end_state(wanted, State(None, [], [row])) is None
    normal = end_state(tickets=[{"priority": "normal"}])
    assert "none matches" in str(check_end_state(normal, State(None, [], [row])))

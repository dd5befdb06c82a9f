"""CARE ticket rules that need no storage: status moves and ticket ids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.care.status import IllegalTransition, TicketStatus, allowed_next, check_transition
from hub.care.ticket_ids import TicketId, find_ticket_ids, ticket_day

S = TicketStatus
WITA = ZoneInfo("Asia/Makassar")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.RECEIVED, S.VERIFIED),
        (S.VERIFIED, S.FORWARDED),
        (S.FORWARDED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
        (S.RECEIVED, S.REJECTED),
        (S.VERIFIED, S.REJECTED),
        (S.RESOLVED, S.IN_PROGRESS),
    ],
)
def test_the_procedure_allows(current: TicketStatus, target: TicketStatus) -> None:
    check_transition(current, target)
    assert target in allowed_next(current)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.RECEIVED, S.RESOLVED),
        (S.RECEIVED, S.CLOSED),
        (S.FORWARDED, S.REJECTED),
        (S.IN_PROGRESS, S.REJECTED),
        (S.CLOSED, S.IN_PROGRESS),
        (S.REJECTED, S.VERIFIED),
        (S.VERIFIED, S.VERIFIED),
    ],
)
def test_the_procedure_refuses(current: TicketStatus, target: TicketStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"{current.value} ticket cannot become"):
        check_transition(current, target)


def test_closed_and_rejected_are_final() -> None:
    assert allowed_next(S.CLOSED) == frozenset()
    assert allowed_next(S.REJECTED) == frozenset()


def test_ticket_id_prints_with_padding() -> None:
    assert str(TicketId(date(2026, 11, 29), 42)) == "CARE-20261129-0042"
    with pytest.raises(ValueError):
        TicketId(date(2026, 11, 29), 0)
    with pytest.raises(ValueError):
        TicketId(date(2026, 11, 29), 10000)


def test_ticket_ids_found_as_citizens_type_them() -> None:
    text = "cek tiket care-20261129-0042 dan CARE 20261130 7, bukan CARE-20261340-0001"
    assert [str(t) for t in find_ticket_ids(text)] == ["CARE-20261129-0042", "CARE-20261130-0007"]
    assert find_ticket_ids("no ticket here 20261129") == []


def test_ticket_day_is_the_wita_day() -> None:
    # 17:30 UTC on 29 November is already 01:30 on 30 November in Bali.
    assert ticket_day(datetime(2026, 11, 29, 17, 30, tzinfo=UTC), WITA) == date(2026, 11, 30)
    assert ticket_day(datetime(2026, 11, 29, 15, 59, tzinfo=UTC), WITA) == date(2026, 11, 29)
    with pytest.raises(ValueError):
        ticket_day(datetime(2026, 11, 29, 12, 0), WITA)

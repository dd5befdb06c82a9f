"""The booking frame's pieces without the app: reading slots, times to sessions, picking a
booking. Messages go through the real entity extractor; today is Monday 30 November 2026."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from hub.booking import Booking, BookingStatus
from hub.catalogue import load_catalogue
from hub.config import BookingConfig
from hub.dialogs import booking_slots
from hub.dialogs.booking_pick import Mention, names_queue_number, select
from hub.dialogs.booking_times import asked_view, session_at, why_not
from hub.nlu import dates
from hub.nlu.entities import EntityExtractor
from hub.nlu.results import IntentScore, Parse
from hub.pipeline.understanding import service_names

CATALOGUE = load_catalogue()
EXTRACTOR = EntityExtractor(service_names(CATALOGUE), warm_up=False)
SESSIONS = BookingConfig().sessions
TODAY = date(2026, 11, 30)  # a Monday
THU_10, FRI_11 = date(2026, 12, 10), date(2026, 12, 11)


def said(text: str, about: date | None = None) -> booking_slots.Said:
    parse = Parse(
        text=text,
        intent=IntentScore("inform", 0.9),
        entities=tuple(EXTRACTOR.extract(text, TODAY)),
    )
    return booking_slots.read(parse, CATALOGUE, TODAY, about)


# --- reading a message into the frame -------------------------------------------------------


def test_several_services_and_a_date_at_once() -> None:
    got = said("antri ktp sama kk besok jam 9")
    assert got.services == ("ktp_el_baru", "kartu_keluarga")
    assert (got.day, got.time) == (date(2026, 12, 1), "09:00")


@pytest.mark.parametrize(
    "text", ["bukan paspor, SKCK", "skck, bukan paspor", "gak jadi paspor, skck aja"]
)
def test_a_service_taken_back_is_dropped_not_booked(text: str) -> None:
    got = said(text)
    assert (got.services, got.dropped) == (("skck",), ("paspor",))


def test_the_last_of_two_dates_wins_and_a_negated_one_is_ignored() -> None:
    assert said("besok eh lusa").day == date(2026, 12, 2)
    assert said("bukan jumat, kamis").day == date(2026, 12, 3)


def test_a_bare_weekday_is_read_in_the_week_under_discussion() -> None:
    assert said("jumat aja", about=THU_10).day == FRI_11
    assert said("kamis deh", about=FRI_11).day == THU_10
    # Nothing under discussion: the nearest one, as dates.py reads it.
    assert said("jumat aja").day == date(2026, 12, 4)
    # A weekday that says its week itself keeps it.
    assert said("jumat depan", about=date(2026, 12, 24)).day == date(2026, 12, 11)
    # The discussed week's day already past (or today): the nearest one instead.
    assert said("senin aja", about=date(2026, 12, 2)).day == date(2026, 12, 7)


def test_fill_reports_only_filled_slots_that_changed() -> None:
    flow: dict[str, Any] = {"mode": "book", "stage": ""}
    assert booking_slots.fill(flow, said("antri paspor besok pagi"), SESSIONS) == []
    assert flow["service"] == "paspor" and flow["session"] == "pagi"
    changed = booking_slots.fill(flow, said("bukan paspor, skck lusa jam 10"), SESSIONS)
    assert changed == ["service", "date", "session"]
    assert (flow["service"], flow["date"], flow["session"]) == ("skck", "2026-12-02", "siang")
    assert booking_slots.fill(flow, said("kk juga"), SESSIONS) == ["service"]
    assert booking_slots.services_of(flow) == ["skck", "kartu_keluarga"]
    # A move keeps its service whatever the message names.
    move: dict[str, Any] = {"mode": "reschedule", "service": "paspor"}
    booking_slots.fill(move, said("skck kamis"), SESSIONS)
    assert move["service"] == "paspor" and move["date"] == "2026-12-03"


# --- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "session"),
    [
        ("jam 9", "pagi"),
        ("9:30", "pagi"),
        ("jam 10 aja", "siang"),
        ("jam 1 siang", "sore"),
        ("pagi", "pagi"),
        ("siang", "siang"),
        ("sore", "sore"),
        ("after lunch", "sore"),
        ("habis makan siang", "sore"),
        ("jam 7 pagi", None),
        ("jam 12.30 wita", None),
    ],
)
def test_a_time_maps_to_the_session_holding_it(text: str, session: str | None) -> None:
    value = said(text).time
    assert value is not None
    assert session_at(SESSIONS, value) == session


def test_why_a_time_has_no_session_that_day() -> None:
    friday, weekday = (time(8), time(13)), (time(8), time(15))
    assert why_not(friday, "14:00", SESSIONS) == "after_close"
    assert why_not(friday, "sore", SESSIONS) == "after_close"
    assert why_not(weekday, "07:00", SESSIONS) == "before_open"
    assert why_not(weekday, "12:30", SESSIONS) == "between"
    assert why_not(None, "09:00", SESSIONS) == "closed"
    assert asked_view("09:30") == {"clock": "09:30"}
    assert asked_view("sore") == {"part": "sore"}


def test_bare_weekday_spans() -> None:
    assert dates.bare_weekday("jumat") == 4
    assert dates.bare_weekday("hari kamis") == 3
    assert dates.bare_weekday("on friday") == 4
    assert dates.bare_weekday("jumat depan") is None
    assert dates.bare_weekday("this friday") is None
    assert dates.bare_weekday("besok") is None
    assert dates.in_week_of(3, FRI_11) == THU_10


# --- naming one of several bookings --------------------------------------------------------


def booking(code: str, service: str, day: date, session: str, label: str) -> Booking:
    return Booking(
        code=code,
        service_id=service,
        day=day,
        session=session,
        queue_number=int(label[2:]),
        queue_label=label,
        counter="",
        status=BookingStatus.BOOKED,
        channel="webchat",
        contact_id=1,
        created_at=datetime(2026, 11, 30),
    )


SIM = booking("B-SIM222", "sim_perpanjangan", date(2026, 12, 1), "pagi", "Z-001")
PASPOR_1 = booking("B-PAS222", "paspor", date(2026, 12, 1), "siang", "H-001")
PASPOR_10 = booking("B-PAS333", "paspor", THU_10, "siang", "H-002")
MINE = [SIM, PASPOR_1, PASPOR_10]


def test_a_booking_is_named_by_service_date_session_or_queue_number() -> None:
    assert select(MINE, Mention(services=("sim_perpanjangan",))) == ([SIM], False)
    assert select(MINE, Mention(day=THU_10)) == ([PASPOR_10], False)
    assert select(MINE, Mention(session="pagi")) == ([SIM], False)
    assert select(MINE, Mention(text="yang H-002 aja")) == ([PASPOR_10], False)
    assert select(MINE, Mention(text="yg h002")) == ([PASPOR_10], False)
    assert select(MINE, Mention(services=("paspor",), day=THU_10)) == ([PASPOR_10], False)


def test_only_a_genuinely_ambiguous_mention_leaves_a_choice() -> None:
    assert select(MINE, Mention(services=("paspor",))) == ([PASPOR_1, PASPOR_10], False)
    # A booking the citizen does not have: said so, nothing narrowed.
    assert select(MINE, Mention(services=("skck",))) == (MINE, True)
    assert names_queue_number("yang A-001") and names_queue_number("h-2 aja")
    assert not names_queue_number("yang paspor") and not names_queue_number("jam 10")

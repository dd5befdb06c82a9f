"""Reading a complaint's slots from any message, checking answers, naming one ticket.

Pure functions over the words citizens write (hub/dialogs/complaint_frame.py,
hub/dialogs/care_followup.py); the whole conversations are in
tests/scenarios/complaints.yaml.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub.care.classify import ObjectKind
from hub.catalogue import load_catalogue
from hub.dialogs.care_followup import asks_about_a_ticket, asks_to_escalate, pick_ticket
from hub.dialogs.care_words import CareMessage
from hub.dialogs.complaint_frame import privacy_asked, privacy_only, read_slots, says_nothing
from hub.nlu.results import IntentScore, Parse
from hub.store.tickets import TicketRecord

CATALOGUE = load_catalogue()


def typed(text: str, intent: str = "inform", confidence: float = 0.5) -> CareMessage:
    return CareMessage(Parse(text=text, intent=IntentScore(intent, confidence)), ())


@pytest.mark.parametrize(
    ("text", "when", "where"),
    [
        ("AC di ruang tunggu rusak dari tadi pagi jam 9", "tadi pagi jam 9", "ruang tunggu"),
        ("tadi pagi jam 9 di loket 3", "tadi pagi jam 9", "loket 3"),
        ("wifi mati dari pagi di ruang tunggu", "dari pagi", "ruang tunggu"),
        ("kemarin sore di parkiran motor", "kemarin sore", "parkiran motor"),
        ("nunggu 2 jam di loket", "", ""),
        ("selamat pagi, mau komplain", "", ""),
        ("petugas parkir bentak saya", "", ""),
        ("petugas loket paspor lama banget", "", ""),
    ],
)
def test_when_and_where_come_from_any_message(text: str, when: str, where: str) -> None:
    slots = read_slots(text, CATALOGUE)
    assert (slots.when, slots.where) == (when, where)


def test_the_object_and_a_counter_agency_come_with_the_slots() -> None:
    slots = read_slots("antre 3 jam di loket samsat, petugasnya santai", CATALOGUE)
    assert slots.about.object is ObjectKind.OFFICER and slots.agency == "samsat"
    assert read_slots("AC mati", CATALOGUE).about.object is ObjectKind.FACILITY


def test_a_counter_named_by_its_agency_is_also_the_place() -> None:
    slots = read_slots("tadi di loket samsat sy dimintai 50rb biar cepet", CATALOGUE)
    assert (slots.agency, slots.where, slots.when) == ("samsat", "loket samsat", "tadi")
    # A numbered counter stays the place, and no agency is made up for it.
    numbered = read_slots("dimintai uang di loket 3", CATALOGUE)
    assert (numbered.agency, numbered.where) == (None, "loket 3")


@pytest.mark.parametrize(
    ("text", "privacy", "only"),
    [
        ("mohon identitas saya dirahasiakan", "confidential", True),
        ("jangan sebut nama saya", "confidential", True),
        ("rahasiakan ya", "confidential", True),
        ("please keep my name confidential", "confidential", True),
        ("saya mau lapor anonim", "anonymous", True),
        ("petugas loket 3 kasar, tolong rahasiakan nama saya", "confidential", False),
        ("data saya bocor", None, False),
    ],
)
def test_privacy_asked_in_free_text(text: str, privacy: str | None, only: bool) -> None:
    assert privacy_asked(text) == privacy
    if privacy:
        assert privacy_only(text) is only


@pytest.mark.parametrize(
    "text", ["ok", "iya", "sip", "makasih", "iya sama2 makasih", "ok kirim", "👍", "oke kak"]
)
def test_acknowledgements_and_emoji_answer_no_open_question(text: str) -> None:
    assert says_nothing(typed(text))


def test_small_talk_read_with_confidence_answers_nothing_either() -> None:
    assert says_nothing(typed("siap kak terima kasih banyak ya", "thanks", 0.95))
    assert says_nothing(typed("halo selamat siang", "greet", 0.9))


@pytest.mark.parametrize(
    "text", ["samsat", "kemarin jam 10 di loket 3", "-x- parkiran", "pajak kendaraan"]
)
def test_real_answers_are_answers(text: str) -> None:
    assert not says_nothing(typed(text))


def ticket(number: int, **values: Any) -> TicketRecord:
    now = datetime(2026, 11, 30, 2, tzinfo=UTC)
    base: dict[str, Any] = {
        "pk": number,
        "ticket_id": f"CARE-20261130-{number:04d}",
        "kind": "complaint",
        "status": "received",
        "category": "",
        "service_id": None,
        "agency": None,
        "description": "",
        "incident_when": "",
        "incident_where": "",
        "anonymous": False,
        "confidential": False,
        "contact_id": 1,
        "conversation_id": 1,
        "channel": "webchat",
        "assigned_to": None,
        "created_at": now,
        "updated_at": now,
        "sla_due_at": None,
        "sla_breached_at": None,
        "resolved_at": None,
        "closed_at": None,
        "rating": None,
        "rating_comment": None,
        "rated_at": None,
        "needs_supervisor": False,
    }
    return TicketRecord(**{**base, **values})


TICKETS = [
    ticket(1, category="AC", description="AC di ruang tunggu rusak", object="facility"),
    ticket(2, description="petugas loket 3 jutek", incident_where="loket 3", object="officer"),
    ticket(
        3,
        service_id="paspor",
        agency="imigrasi",
        category="Paspor",
        description="antrean paspor lama",
    ),
]


@pytest.mark.parametrize(
    ("text", "services", "expected"),
    [
        ("yang soal AC gimana?", [], 1),
        ("yg keluhan loket 3", [], 2),
        ("tiket 0002", [], 2),
        ("kalau C-0003?", [], 3),
        ("yang paspor", ["paspor"], 3),
        ("yang antrean kemarin", [], 3),
        ("gimana kabarnya", [], None),
        ("yang toilet", [], None),
    ],
)
def test_one_ticket_of_several_is_picked_by_its_words(
    text: str, services: list[str], expected: int | None
) -> None:
    picked = pick_ticket(text, TICKETS, CATALOGUE, services)
    assert (picked.pk if picked else None) == expected


def test_escalation_and_status_questions_are_recognised() -> None:
    for text in ("tolong dieskalasi", "kok lama banget, eskalasi dong", "please escalate this"):
        assert asks_to_escalate(text)
    assert not asks_to_escalate("kapan selesai ya")
    assert asks_about_a_ticket("yang soal AC gimana?")
    assert not asks_about_a_ticket("AC di ruang tunggu rusak")

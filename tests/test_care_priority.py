"""Bribery first, complaints by what they are about, escalation on the citizen's request.

The classifier (hub/care/classify.py) on the words citizens write, and the domain on
a real database: a high-priority ticket's shorter deadlines, the ``object`` a ticket
records, and :meth:`CareService.escalate` granting a late ticket only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from hub.care.access import SYSTEM
from hub.care.classify import (
    ObjectKind,
    Priority,
    classify,
    counter_agency,
    facility_in,
    is_bribery,
)
from hub.care.service import CareService, Escalation, Ticket, TicketKind
from hub.config import CareConfig
from hub.store import Database, migrate
from tests.clock import Clock
from tests.test_booking import new_contacts
from tests.test_care_service import CATALOGUE, Recorder, end_of, wita, working_days


@pytest.mark.parametrize(
    ("text", "kind", "facility"),
    [
        ("AC di ruang tunggu rusak dari tadi pagi jam 9", ObjectKind.FACILITY, "AC"),
        ("toilet lantai 2 kotor bgt, ga ada air", ObjectKind.FACILITY, "Toilet"),
        ("parkiran motor penuh terus", ObjectKind.FACILITY, "Parkir"),
        (
            "kursi roda di lobi rusak, ibu saya susah masuk",
            ObjectKind.FACILITY,
            "Akses disabilitas",
        ),
        ("kursi ruang tunggu kurang, banyak yg berdiri", ObjectKind.FACILITY, "Kursi"),
        ("mesin antrian error, nomor ga keluar", ObjectKind.FACILITY, "Mesin antrean"),
        ("wifi nya mati terus", ObjectKind.FACILITY, "Wi-Fi"),
        ("the air conditioning in the waiting room is broken", ObjectKind.FACILITY, "AC"),
        ("loket 3 tutup padahal masih jam layanan", ObjectKind.COUNTER, ""),
        ("petugas loket 3 kasar sama saya", ObjectKind.OFFICER, ""),
        ("petugas parkir galak", ObjectKind.OFFICER, "Parkir"),
        ("pelayanan paspor lama", None, ""),
    ],
)
def test_a_complaint_is_classified_by_what_it_is_about(
    text: str, kind: ObjectKind | None, facility: str
) -> None:
    found = classify(text)
    assert (found.object, found.facility) == (kind, facility)


@pytest.mark.parametrize(
    "text",
    [
        "ada pungli di loket samsat",
        "petugas minta uang 50rb biar cepat",
        "dimintai 50rb biar cepat",
        "disuruh kasih uang pelicin",
        "ada calo di depan pintu masuk",
        "mau lapor suap",
        "kasih 100 ribu biar cepet katanya",
        "the officer asked me for money to speed it up",
    ],
)
def test_bribery_is_high_priority_and_about_an_officer(text: str) -> None:
    found = classify(text)
    assert is_bribery(text) and found.priority is Priority.HIGH
    assert found.object is ObjectKind.OFFICER


@pytest.mark.parametrize(
    "text",
    ["antrean lama sekali", "biaya paspor 350 ribu ya?", "AC mati", "saya bayar parkir 2rb"],
)
def test_ordinary_complaints_are_normal_priority(text: str) -> None:
    assert classify(text).priority is Priority.NORMAL


def test_a_counter_named_by_its_agency_names_the_agency() -> None:
    assert counter_agency(CATALOGUE, "antre lama di loket samsat") == "samsat"
    assert counter_agency(CATALOGUE, "gerai sim tutup") == "polres"
    assert counter_agency(CATALOGUE, "di loket 3") is None, "a number names no agency"
    assert facility_in("di loket 3") == ""


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(wita(date(2026, 11, 30), 10))  # a Monday morning


@pytest.fixture
def care(db: Database, clock: Clock) -> CareService:
    return CareService(
        db, CATALOGUE, CareConfig(), working_days(), clock=clock, notifier=Recorder()
    )


async def test_a_high_priority_ticket_has_shorter_deadlines(care: CareService) -> None:
    [contact] = await new_contacts(care.db, 1)
    bribery = await care.file(
        kind=TicketKind.COMPLAINT,
        contact_id=contact,
        channel="sms",
        description="petugas minta uang 50rb biar cepat",
        service_id="paspor",
        priority=Priority.HIGH,
        object_kind=ObjectKind.OFFICER,
    )
    plain = await care.file(
        kind=TicketKind.COMPLAINT,
        contact_id=contact,
        channel="sms",
        description="AC ruang tunggu mati",
        category="AC",
        object_kind=ObjectKind.FACILITY,
    )
    assert (bribery.priority, bribery.object) == ("high", "officer")
    assert (plain.priority, plain.object) == ("normal", "facility")
    assert bribery.sla_due_at == end_of(date(2026, 12, 1)), "verified within 1 working day"
    assert plain.sla_due_at == end_of(date(2026, 12, 3)), "3 working days"
    await care.change_status(bribery.ticket_id, "verified", SYSTEM)
    forwarded = await care.change_status(bribery.ticket_id, "forwarded", SYSTEM)
    assert forwarded.sla_due_at == end_of(date(2026, 12, 3)), "resolved within 3, not 5"


async def test_a_citizen_escalates_only_their_own_late_open_ticket(
    care: CareService, clock: Clock
) -> None:
    owner, stranger = await new_contacts(care.db, 2)
    ticket = await care.file(
        kind=TicketKind.COMPLAINT, contact_id=owner, channel="webchat", description="AC mati"
    )
    assert await care.escalate(ticket.ticket_id, stranger) is None
    outcome, same = await _escalate(care, ticket.ticket_id, owner)
    assert outcome is Escalation.NOT_LATE and not same.needs_supervisor

    clock.now = wita(date(2026, 12, 4), 9)  # due by the end of Thursday 3 December
    outcome, late = await _escalate(care, ticket.ticket_id, owner)
    assert outcome is Escalation.ESCALATED and late.needs_supervisor
    assert late.status == "received", "escalation moves no status"
    recorder = care.notifier
    assert isinstance(recorder, Recorder)
    assert [c.kind for _, c in recorder.after_commit][-1] == "escalation", "consoles told"
    detail = await care.get(ticket.ticket_id)
    assert detail is not None and detail.history[-1].kind == "escalation"

    outcome, _ = await _escalate(care, ticket.ticket_id, owner)
    assert outcome is Escalation.ALREADY, "once"
    await care.change_status(ticket.ticket_id, "rejected", SYSTEM, "bukan kewenangan MPP")
    outcome, _ = await _escalate(care, ticket.ticket_id, owner)
    assert outcome is Escalation.NOT_OPEN


async def _escalate(care: CareService, ticket_id: str, contact: int) -> tuple[Escalation, Ticket]:
    result = await care.escalate(ticket_id, contact)
    assert result is not None
    return result

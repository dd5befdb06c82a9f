"""The CARE domain on a real database: ticket ids, moves and who may make them,
deadlines in working days across weekends and holidays, escalation once, ratings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from hub.care.access import SYSTEM, Actor, ActorRole
from hub.care.service import CareService, Change, NotAllowed, Ticket, TicketKind, TicketNotFound
from hub.care.sla import WorkingDays
from hub.care.status import IllegalTransition
from hub.catalogue import load_catalogue
from hub.config import CareConfig
from hub.store import Database, migrate
from hub.store.tables import officers, ticket_events, tickets
from tests.clock import Clock
from tests.test_booking import new_contacts

WITA = ZoneInfo("Asia/Makassar")
CATALOGUE = load_catalogue()
SUPERVISOR = Actor("officer:1", ActorRole.SUPERVISOR, officer_id=1)


def wita(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


def end_of(day: date) -> datetime:
    """A deadline "by the end of ``day``" is the next midnight, WITA."""
    return datetime.combine(day + timedelta(days=1), time(0), WITA)


class Recorder:
    """A notifier that keeps what it was told, in and after the transaction."""

    def __init__(self) -> None:
        self.changed: list[tuple[str, Change]] = []
        self.after_commit: list[tuple[str, Change]] = []

    async def ticket_changed(self, conn: object, ticket: Ticket, change: Change) -> None:
        self.changed.append((ticket.ticket_id, change))

    async def committed(self, ticket: Ticket, change: Change) -> None:
        self.after_commit.append((ticket.ticket_id, change))


def working_days() -> WorkingDays:
    return WorkingDays(WITA)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(wita(date(2026, 11, 27), 14))  # a Friday afternoon


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def care(db: Database, clock: Clock, recorder: Recorder) -> CareService:
    return CareService(db, CATALOGUE, CareConfig(), working_days(), clock=clock, notifier=recorder)


async def new_officer(db: Database, username: str) -> int:
    now = datetime.now(WITA)
    async with db.begin() as conn:
        new_id = await conn.scalar(
            sa.insert(officers)
            .values(username=username, password_hash="x", role="officer", created_at=now)
            .returning(officers.c.id)
        )
    return int(new_id or 0)


async def complaint(care: CareService, contact: int, **fields: object) -> Ticket:
    values: dict[str, object] = {
        "kind": TicketKind.COMPLAINT,
        "contact_id": contact,
        "channel": "webchat",
        "description": "Antrean paspor lama sekali, petugas tidak ada di loket.",
        "service_id": "paspor",
    }
    values.update(fields)
    return await care.file(**values)  # type: ignore[arg-type]


# --- working days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "days", "due_end_of"),
    [
        # Friday + 3 working days: Mon, Tue, Wed.
        (wita(date(2026, 11, 27), 14), 3, date(2026, 12, 2)),
        # Saturday counts from Monday too.
        (wita(date(2026, 11, 28), 9), 3, date(2026, 12, 2)),
        # Wednesday 23 Dec + 3: Thu 24 (cuti bersama is not a public holiday by default),
        # Fri 25 Christmas, the weekend, then Mon 28 and Tue 29.
        (wita(date(2026, 12, 23)), 3, date(2026, 12, 29)),
        # Late evening WITA is still that WITA day, though UTC is the same day too.
        (datetime(2026, 11, 30, 15, 30, tzinfo=ZoneInfo("UTC")), 1, date(2026, 12, 1)),
        # New Year's Day 2027 is a Friday: Thursday 31 Dec + 1 is Monday 4 Jan.
        (wita(date(2026, 12, 31)), 1, date(2027, 1, 4)),
    ],
)
def test_deadline_in_working_days(received: datetime, days: int, due_end_of: date) -> None:
    assert working_days().deadline(received, days) == end_of(due_end_of)


def test_cuti_bersama_counts_when_configured_so() -> None:
    calendar = WorkingDays(WITA, holiday_categories=("public", "government"))
    assert calendar.deadline(wita(date(2026, 12, 23)), 3) == end_of(date(2026, 12, 30))
    closed = WorkingDays(WITA, closures=frozenset({date(2026, 11, 30)}))
    assert closed.deadline(wita(date(2026, 11, 27)), 1) == end_of(date(2026, 12, 1))


def test_office_hours_and_next_opening() -> None:
    calendar = working_days()
    opens, closes = time(8), time(15)
    monday = date(2026, 11, 30)
    assert calendar.is_open(wita(monday, 10), opens, closes)
    assert not calendar.is_open(wita(monday, 15), opens, closes)
    assert calendar.next_opening(wita(monday, 7), opens, closes) == wita(monday, 8)
    assert calendar.next_opening(wita(monday, 16), opens, closes) == wita(date(2026, 12, 1), 8)
    saturday = date(2026, 11, 28)
    assert calendar.next_opening(wita(saturday, 10), opens, closes) == wita(monday, 8)
    christmas_eve = date(2026, 12, 24)
    assert calendar.next_opening(wita(christmas_eve, 16), opens, closes) == wita(
        date(2026, 12, 28), 8
    )


# --- filing and ids -------------------------------------------------------------------------


async def test_ticket_ids_run_per_wita_day_and_are_never_reused(
    care: CareService, db: Database, clock: Clock
) -> None:
    (contact,) = await new_contacts(db, 1)
    first = await complaint(care, contact)
    second = await complaint(care, contact)
    assert (first.ticket_id, second.ticket_id) == ("CARE-20261127-0001", "CARE-20261127-0002")
    assert first.status == "received" and first.agency == CATALOGUE.services["paspor"].agency
    assert first.sla_due_at == end_of(date(2026, 12, 2))
    # 23:30 WITA on the same day is still the 27th; 00:10 WITA is the 28th.
    clock.now = wita(date(2026, 11, 27), 23, 30)
    assert (await complaint(care, contact)).ticket_id == "CARE-20261127-0003"
    clock.now = wita(date(2026, 11, 28), 0, 10)
    assert (await complaint(care, contact)).ticket_id == "CARE-20261128-0001"


async def test_concurrent_filings_get_distinct_numbers(care: CareService, db: Database) -> None:
    contacts = await new_contacts(db, 20)
    filed = await asyncio.gather(*(complaint(care, c) for c in contacts))
    numbers = sorted(int(t.ticket_id.rsplit("-", 1)[1]) for t in filed)
    assert numbers == list(range(1, 21))


async def test_attachments_and_history_are_kept(care: CareService, db: Database) -> None:
    (contact,) = await new_contacts(db, 1)
    photo = {"content_type": "image/jpeg", "url": "https://x.test/p.jpg", "caption": "loket"}
    ticket = await complaint(care, contact, attachments=[photo])
    detail = await care.get(ticket.ticket_id.lower().replace("-", " "))
    assert detail is not None
    assert [(a.content_type, a.url, a.caption) for a in detail.attachments] == [
        ("image/jpeg", "https://x.test/p.jpg", "loket")
    ]
    assert [(e.actor, e.kind, e.to_status) for e in detail.history] == [
        ("citizen", "status", "received")
    ]


# --- moves ----------------------------------------------------------------------------------


async def test_the_whole_procedure_with_deadlines_and_notices(
    care: CareService, db: Database, clock: Clock, recorder: Recorder
) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact)
    clock.now = wita(date(2026, 11, 30), 9)
    verified = await care.change_status(ticket.ticket_id, "verified", SUPERVISOR, "cek CCTV")
    assert verified.sla_due_at == ticket.sla_due_at  # the verify deadline runs to forwarding
    forwarded = await care.change_status(ticket.ticket_id, "forwarded", SUPERVISOR)
    assert forwarded.sla_due_at == end_of(date(2026, 12, 7))  # Mon + 5 working days
    await care.change_status(ticket.ticket_id, "in_progress", SUPERVISOR)
    clock.now = wita(date(2026, 12, 2), 11)
    resolved = await care.change_status(
        ticket.ticket_id, "resolved", SUPERVISOR, "Petugas ditambah."
    )
    assert resolved.resolved_at == clock.now
    assert resolved.sla_due_at == end_of(date(2026, 12, 16))  # Wed + 10 working days
    detail = await care.get(ticket.ticket_id)
    assert detail is not None
    assert [e.to_status for e in detail.history] == [
        "received",
        "verified",
        "forwarded",
        "in_progress",
        "resolved",
    ]
    assert detail.history[1].note == "cek CCTV" and detail.history[1].actor == "officer:1"
    told = [(c.from_status, c.to_status) for _, c in recorder.changed]
    assert told == [
        ("received", "verified"),
        ("verified", "forwarded"),
        ("forwarded", "in_progress"),
        ("in_progress", "resolved"),
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "forwarded"),
        ([], "resolved"),
        (["verified"], "in_progress"),
        (["verified", "forwarded"], "rejected"),
        (["rejected"], "verified"),
    ],
)
async def test_illegal_moves_are_refused_and_change_nothing(
    care: CareService, db: Database, path: list[str], target: str
) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact)
    for step in path:
        await care.change_status(ticket.ticket_id, step, SUPERVISOR, "alasan")
    with pytest.raises(IllegalTransition):
        await care.change_status(ticket.ticket_id, target, SUPERVISOR, "alasan")
    detail = await care.get(ticket.ticket_id)
    assert detail is not None and detail.ticket.status == (path[-1] if path else "received")
    assert len(detail.history) == 1 + len(path)


async def test_rejection_needs_a_reason(care: CareService, db: Database) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact)
    with pytest.raises(IllegalTransition, match="reason"):
        await care.change_status(ticket.ticket_id, "rejected", SUPERVISOR, "  ")
    rejected = await care.change_status(ticket.ticket_id, "rejected", SUPERVISOR, "Bukan MPP")
    assert rejected.status == "rejected" and rejected.sla_due_at is None


async def test_officers_work_their_agencies_and_not_confidential_tickets(
    care: CareService, db: Database
) -> None:
    (contact,) = await new_contacts(db, 1)
    paspor = await complaint(care, contact)
    secret = await complaint(care, contact, confidential=True)
    imigrasi = CATALOGUE.services["paspor"].agency
    other = next(a for a in CATALOGUE.agencies if a != imigrasi)
    mine, theirs = await new_officer(db, "made"), await new_officer(db, "ketut")
    own = Actor(f"officer:{mine}", ActorRole.OFFICER, (imigrasi,), officer_id=mine)
    stranger = Actor(f"officer:{theirs}", ActorRole.OFFICER, (other,), officer_id=theirs)

    assert (await care.change_status(paspor.ticket_id, "verified", own)).status == "verified"
    with pytest.raises(NotAllowed):
        await care.change_status(paspor.ticket_id, "rejected", own, "tidak relevan")
    with pytest.raises(NotAllowed):
        await care.change_status(secret.ticket_id, "verified", own)
    with pytest.raises(TicketNotFound):
        await care.change_status(paspor.ticket_id, "forwarded", stranger)
    assert [t.ticket_id for t in await care.search(stranger)] == []
    assert {t.ticket_id for t in await care.search(own)} == {paspor.ticket_id, secret.ticket_id}
    with pytest.raises(NotAllowed):
        await care.assign(paspor.ticket_id, theirs, own)
    assert (await care.assign(paspor.ticket_id, mine, own)).assigned_to == mine


async def test_two_officers_moving_at_once_one_wins(care: CareService, db: Database) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact)
    results = await asyncio.gather(
        *(care.change_status(ticket.ticket_id, "verified", SUPERVISOR) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Ticket) for r in results) == 1
    assert all(isinstance(r, Ticket | IllegalTransition) for r in results)
    async with db.engine.connect() as conn:
        moves = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(ticket_events)
            .where(ticket_events.c.to_status == "verified")
        )
    assert moves == 1


# --- deadlines and escalation ---------------------------------------------------------------


async def test_breach_is_marked_and_escalated_once(
    care: CareService, db: Database, clock: Clock, recorder: Recorder
) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact)  # Friday 27 Nov: due by the end of Wed 2 Dec
    clock.now = wita(date(2026, 12, 2), 23, 59)
    assert (await care.check_deadlines()).breached == []
    clock.now = wita(date(2026, 12, 3), 0, 1)
    report = await care.check_deadlines()
    assert [t.ticket_id for t in report.breached] == [ticket.ticket_id]
    assert report.breached[0].needs_supervisor
    # Later runs, and a second process, do not escalate it again.
    other = CareService(db, CATALOGUE, CareConfig(), working_days(), clock=clock)
    again = await asyncio.gather(care.check_deadlines(), other.check_deadlines())
    assert [r.breached for r in again] == [[], []]
    assert [c.kind for _, c in recorder.after_commit].count("sla_breach") == 1
    assert [t.ticket_id for t in await care.search(SUPERVISOR, breached=True)] == [ticket.ticket_id]
    # Forwarding starts a new stage with a new deadline, breached or not.
    await care.change_status(ticket.ticket_id, "verified", SUPERVISOR)
    forwarded = await care.change_status(ticket.ticket_id, "forwarded", SUPERVISOR)
    assert forwarded.sla_breached_at is None
    assert forwarded.sla_due_at == end_of(date(2026, 12, 10))


async def test_unanswered_resolution_closes_after_ten_working_days(
    care: CareService, db: Database, clock: Clock
) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact)
    for step in ("verified", "forwarded", "in_progress", "resolved"):
        await care.change_status(ticket.ticket_id, step, SUPERVISOR)
    clock.now = wita(date(2026, 12, 11), 23)  # resolved Fri 27 Nov: closes after Fri 11 Dec
    assert (await care.check_deadlines()).closed == []
    clock.now = wita(date(2026, 12, 12), 9)
    [closed] = (await care.check_deadlines()).closed
    assert closed.status == "closed" and closed.closed_at == clock.now
    assert (await care.check_deadlines()).closed == []


# --- ratings --------------------------------------------------------------------------------


async def resolved_ticket(care: CareService, contact: int) -> Ticket:
    ticket = await complaint(care, contact)
    for step in ("verified", "forwarded", "in_progress", "resolved"):
        await care.change_status(ticket.ticket_id, step, SUPERVISOR)
    return ticket


async def test_a_good_rating_closes_and_a_low_one_reopens_for_a_supervisor(
    care: CareService, db: Database
) -> None:
    owner, stranger = await new_contacts(db, 2)
    good = await resolved_ticket(care, owner)
    assert await care.rate(good.ticket_id, stranger, 5) is None
    rated = await care.rate(good.ticket_id, owner, 5, "cepat")
    assert rated is not None and (rated.status, rated.rating) == ("closed", 5)
    assert await care.rate(good.ticket_id, owner, 4) is None  # once

    low = await resolved_ticket(care, owner)
    reopened = await care.rate(low.ticket_id, owner, 1, "belum beres")
    assert reopened is not None
    assert (reopened.status, reopened.needs_supervisor) == ("in_progress", True)
    assert reopened.rating_comment == "belum beres" and reopened.resolved_at is None
    assert [t.ticket_id for t in await care.search(SUPERVISOR, needs_supervisor=True)] == [
        low.ticket_id
    ]
    with pytest.raises(ValueError):
        await care.rate(low.ticket_id, owner, 6)


async def test_system_actor_and_unknown_tickets(care: CareService, db: Database) -> None:
    (contact,) = await new_contacts(db, 1)
    ticket = await complaint(care, contact, kind=TicketKind.APPRECIATION, service_id=None)
    assert ticket.kind == "appreciation" and ticket.agency is None
    assert (await care.change_status(ticket.ticket_id, "verified", SYSTEM)).status == "verified"
    with pytest.raises(TicketNotFound):
        await care.change_status("CARE-20990101-0001", "verified", SYSTEM)
    assert await care.get("no id here") is None
    async with db.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(tickets)) == 1

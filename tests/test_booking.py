"""Queue booking: calendar rules, codes, and the store's guarantees on both backends.

Dates are fixed: "now" is Monday 14 December 2026 in WITA unless a test moves it.
That fortnight holds a weekend (19-20 Dec), cuti bersama (24 Dec, from the
``holidays`` package's government category) and Christmas (25 Dec).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.exc import IntegrityError

from hub.booking import (
    Booking,
    BookingCalendar,
    BookingService,
    BookingStatus,
    Reason,
    Refusal,
    new_code,
    normalise_code,
    queue_label,
)
from hub.booking.codes import ALPHABET
from hub.catalogue import (
    Catalogue,
    CatalogueError,
    CurrentCatalogue,
    default_catalogue_path,
    load_catalogue,
)
from hub.config import BookingConfig, ConfigError, load_config
from hub.nlu.entities import EntityExtractor
from hub.store import Database, migrate
from hub.store.tables import booking_slots, bookings, contacts, queue_counters
from tests.clock import Clock

WITA = ZoneInfo("Asia/Makassar")
CATALOGUE = load_catalogue(default_catalogue_path())
KTP = "ktp_el_baru"  # queue prefix A, quota 120
MON, TUE, WED, FRI = date(2026, 12, 14), date(2026, 12, 15), date(2026, 12, 16), date(2026, 12, 18)


def wita(day: date, hour: int = 7, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=WITA)


def with_quota(catalogue: Catalogue = CATALOGUE, /, **quotas: int) -> Catalogue:
    services = {
        sid: dataclasses.replace(s, daily_quota=quotas[sid]) if sid in quotas else s
        for sid, s in catalogue.services.items()
    }
    return dataclasses.replace(catalogue, services=services)


def calendar(catalogue: Catalogue = CATALOGUE, **booking: object) -> BookingCalendar:
    return BookingCalendar(catalogue, BookingConfig.model_validate(booking), WITA)


def refused(result: Booking | Refusal | None) -> Refusal:
    assert isinstance(result, Refusal), result
    return result


def booked(result: Booking | Refusal) -> Booking:
    assert isinstance(result, Booking), result
    return result


# --- calendar ---------------------------------------------------------------------------------

KTP_SERVICE = CATALOGUE.services[KTP]


@pytest.mark.parametrize(
    ("day", "reason", "detail"),
    [
        (date(2026, 12, 19), Reason.CLOSED_WEEKEND, ""),  # Saturday
        (date(2026, 12, 20), Reason.CLOSED_WEEKEND, ""),  # Sunday
        (date(2026, 12, 25), Reason.HOLIDAY, "Hari Raya Natal"),  # holidays package + yaml
        (date(2026, 12, 24), Reason.HOLIDAY, "Cuti Bersama Hari Raya Natal"),  # package
        (date(2026, 12, 10), Reason.PAST, ""),
        (date(2026, 12, 29), Reason.BEYOND_HORIZON, "14"),
    ],
)
def test_refused_days(day: date, reason: Reason, detail: str) -> None:
    refusal = refused(calendar().check(KTP_SERVICE, day, wita(MON)))
    assert refusal.reason is reason
    if reason is Reason.HOLIDAY:
        assert detail.split()[-1] in refusal.detail, refusal.detail
    else:
        assert refusal.detail == detail


def test_the_mall_is_closed_on_sunday_29_november() -> None:
    assert date(2026, 11, 29).weekday() == 6
    refusal = calendar().check(KTP_SERVICE, date(2026, 11, 29), wita(date(2026, 11, 27)))
    assert refused(refusal).reason is Reason.CLOSED_WEEKEND


def test_bali_holidays_from_services_yaml() -> None:
    now = wita(date(2026, 3, 16))
    nyepi = refused(calendar().check(KTP_SERVICE, date(2026, 3, 19), now))
    assert nyepi == Refusal(Reason.HOLIDAY, "Hari Suci Nyepi Tahun Baru Saka 1948")
    # Pagerwesi (libur fakultatif) is only in services.yaml, not in the holidays package.
    pagerwesi = date(2026, 4, 8)
    now = wita(date(2026, 4, 6))
    assert calendar().check(KTP_SERVICE, pagerwesi, now) == Refusal(Reason.HOLIDAY, "Pagerwesi")
    # A deployment that keeps the mall open on libur fakultatif says so in the config.
    national_only = calendar(holiday_statuses_closed=["libur nasional", "cuti bersama"])
    assert national_only.check(KTP_SERVICE, pagerwesi, now) is None


def test_cuti_bersama_can_be_left_to_the_configured_closures() -> None:
    public_only = calendar(holiday_categories=["public"])
    assert public_only.check(KTP_SERVICE, date(2026, 12, 24), wita(MON)) is None
    assert refused(public_only.check(KTP_SERVICE, date(2026, 12, 25), wita(MON))).detail


def test_configured_closure() -> None:
    cal = calendar(closures=[{"date": "2026-12-16", "name": "Upacara Hari Jadi Badung"}])
    assert cal.check(KTP_SERVICE, WED, wita(MON)) == Refusal(
        Reason.HOLIDAY, "Upacara Hari Jadi Badung"
    )
    assert cal.sessions(KTP_SERVICE, WED) == []
    assert cal.check(KTP_SERVICE, TUE, wita(MON)) is None


def test_friday_has_no_afternoon_session_and_quota_is_shared() -> None:
    cal = calendar()
    friday = cal.sessions(KTP_SERVICE, FRI)  # hours 08:00-13:00
    assert [(s.name, s.capacity) for s in friday] == [("pagi", 60), ("siang", 60)]
    monday = cal.sessions(KTP_SERVICE, MON)
    assert [(s.name, s.start, s.end, s.capacity) for s in monday] == [
        ("pagi", time(8), time(10), 40),
        ("siang", time(10), time(12), 40),
        ("sore", time(13), time(15), 40),
    ]
    # 80 over three sessions: the remainder goes to the first ones.
    kk = CATALOGUE.services["kartu_keluarga"]
    assert [s.capacity for s in cal.sessions(kk, MON)] == [27, 27, 26]


def test_same_day_cutoff_in_wita() -> None:
    cal = calendar()
    # 02:59 UTC is 10:59 WITA: still before the 11:00 cut-off.
    assert cal.check(KTP_SERVICE, MON, datetime(2026, 12, 14, 2, 59, tzinfo=UTC)) is None
    late = refused(cal.check(KTP_SERVICE, MON, datetime(2026, 12, 14, 3, 0, tzinfo=UTC)))
    assert late == Refusal(Reason.AFTER_CUTOFF, "11:00")
    # At 23:30 UTC on Sunday it is already Monday 07:30 in Bali.
    assert cal.today(datetime(2026, 12, 13, 23, 30, tzinfo=UTC)) == MON
    pagi = cal.sessions(KTP_SERVICE, MON)[0]
    assert not cal.session_passed(pagi, MON, wita(MON, 9, 59))
    assert cal.session_passed(pagi, MON, wita(MON, 10, 0))


def test_horizon_is_inclusive() -> None:
    cal = calendar(horizon_days=14)
    assert cal.check(KTP_SERVICE, MON + timedelta(days=14), wita(MON)) is None
    assert cal.check(KTP_SERVICE, MON + timedelta(days=15), wita(MON)) is not None


def test_next_bookable_skips_weekends_and_holidays_within_the_horizon() -> None:
    cal = calendar()
    assert cal.next_bookable(KTP_SERVICE, FRI, wita(MON)) == [
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
    ]
    # 24 (cuti bersama), 25 (Natal), 26-27 (weekend) skipped; 28 is the horizon's last day.
    assert cal.next_bookable(KTP_SERVICE, date(2026, 12, 22), wita(MON), count=5) == [
        date(2026, 12, 23),
        date(2026, 12, 28),
    ]
    # From a past day the search starts today (before the cut-off today counts).
    assert cal.next_bookable(KTP_SERVICE, date(2026, 12, 1), wita(MON), count=2) == [MON, TUE]
    assert cal.next_bookable(KTP_SERVICE, date(2026, 12, 1), wita(MON, 11), count=1) == [TUE]


def test_a_service_open_on_saturday_is_bookable_then() -> None:
    service = dataclasses.replace(
        KTP_SERVICE, hours={"mon_fri": "08:00-15:00", "sat": "08:00-12:00"}
    )
    catalogue = dataclasses.replace(CATALOGUE, services={KTP: service})
    cal = calendar(catalogue)
    saturday = date(2026, 12, 19)
    assert cal.check(service, saturday, wita(MON)) is None
    assert [s.name for s in cal.sessions(service, saturday)] == ["pagi", "siang"]
    assert refused(cal.check(service, date(2026, 12, 20), wita(MON))).reason is (
        Reason.CLOSED_WEEKEND
    )


@pytest.mark.parametrize(
    "hours",
    [{"mon_thu": "always"}, {"weekdays": "08:00-15:00"}, {"mon_thu": "15:00-08:00"}],
)
def test_bad_catalogue_hours_fail_at_start(hours: dict[str, str]) -> None:
    service = dataclasses.replace(KTP_SERVICE, hours=hours)
    with pytest.raises(CatalogueError, match=KTP):
        calendar(dataclasses.replace(CATALOGUE, services={KTP: service}))


# --- config -----------------------------------------------------------------------------------


def test_booking_config_defaults() -> None:
    booking = load_config(None).booking
    assert booking.horizon_days == 14 and booking.same_day_cutoff == time(11)
    assert [(s.name, s.start, s.end) for s in booking.sessions] == [
        ("pagi", time(8), time(10)),
        ("siang", time(10), time(12)),
        ("sore", time(13), time(15)),
    ]
    assert booking.closures == []
    assert booking.model_dump(mode="json")["same_day_cutoff"] == "11:00"


@pytest.mark.parametrize(
    ("booking", "message"),
    [
        ({"same_day_cutoff": 660}, "booking.same_day_cutoff"),  # YAML's unquoted 11:00
        ({"same_day_cutoff": "25:00"}, "booking.same_day_cutoff"),
        ({"horizon_days": -1}, "booking.horizon_days"),
        ({"sessions": [{"name": "pagi", "start": "10:00", "end": "08:00"}]}, "end must be"),
        (
            {
                "sessions": [
                    {"name": "a", "start": "08:00", "end": "10:00"},
                    {"name": "b", "start": "09:00", "end": "11:00"},
                ]
            },
            "overlap",
        ),
        ({"sessions": []}, "booking.sessions"),
        ({"closures": [{"date": "2026-13-01", "name": "x"}]}, "booking.closures"),
    ],
)
def test_booking_config_errors(booking: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, booking=booking)


def test_unquoted_yaml_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("booking:\n  same_day_cutoff: 11:00\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="in quotes"):
        load_config(path)
    path.write_text(
        'booking:\n  same_day_cutoff: "10:30"\n  closures:\n'
        "    - {date: 2026-12-31, name: Cuti bersama}\n",
        encoding="utf-8",
    )
    booking = load_config(path).booking
    assert booking.same_day_cutoff == time(10, 30)
    assert booking.closures[0].date == date(2026, 12, 31)


# --- codes ------------------------------------------------------------------------------------


def test_codes_are_unambiguous_and_always_hold_a_digit() -> None:
    extractor = EntityExtractor(CATALOGUE.synonyms(), warm_up=False)
    codes = {new_code() for _ in range(3000)}
    assert len(codes) == 3000
    for code in codes:
        assert re.fullmatch(rf"B-[{ALPHABET}]{{6}}", code), code
        assert not set(code[2:]) & set("0O1I")
        assert any(c.isdigit() for c in code)
    for code in list(codes)[:50]:
        typed = "cek booking " + code.replace("-", "").lower()
        found = [e.value for e in extractor.extract(typed, MON) if e.type == "booking_code"]
        assert found == [code], typed


def test_normalise_code_and_queue_label() -> None:
    assert normalise_code(" b 7q4m2x ") == "B-7Q4M2X"
    assert normalise_code("B7Q4M2X") == "B-7Q4M2X"
    assert normalise_code("BERSAMA") is None  # no digit: a word, not a code
    assert normalise_code("B-7Q4M20") is None  # 0 is not in the alphabet
    assert queue_label("A", 12) == "A-012"
    assert queue_label("A", 1000) == "A-1000"


def test_every_service_has_its_own_queue_prefix() -> None:
    prefixes = [s.queue_prefix for s in CATALOGUE.services.values()]
    assert all(re.fullmatch(r"[A-Z]", p) for p in prefixes)
    assert len(set(prefixes)) == len(prefixes)
    assert not {"B", "I", "O"} & set(prefixes)


def test_duplicate_queue_prefix_is_a_catalogue_error(tmp_path: Path) -> None:
    document = yaml.safe_load(default_catalogue_path().read_text(encoding="utf-8"))
    document["services"][1]["queue_prefix"] = document["services"][0]["queue_prefix"]
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(CatalogueError, match="queue_prefix 'A' is already used"):
        load_catalogue(path)


# --- storage (SQLite and PostgreSQL) ----------------------------------------------------------


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    try:
        yield database
    finally:
        await database.close()


async def new_contacts(db: Database, count: int) -> list[int]:
    now = datetime.now(UTC)
    ids: list[int] = []
    async with db.begin() as conn:
        for n in range(count):
            new_id = await conn.scalar(
                sa.insert(contacts)
                .values(display_name=f"warga {n}", created_at=now, updated_at=now)
                .returning(contacts.c.id)
            )
            ids.append(int(new_id or 0))
    return ids


def service(
    db: Database, clock: Clock, catalogue: Catalogue = CATALOGUE, **booking: object
) -> BookingService:
    config = BookingConfig.model_validate(booking)
    return BookingService(db, catalogue, config, timezone=WITA, clock=clock)


async def taken(db: Database, service_id: str, day: date, session: str) -> int:
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            sa.select(booking_slots.c.taken).where(
                booking_slots.c.service_id == service_id,
                booking_slots.c.day == day,
                booking_slots.c.session == session,
            )
        )
    return int(value or 0)


async def test_book_happy_path(db: Database) -> None:
    c1, c2, c3 = await new_contacts(db, 3)
    bookings_ = service(db, Clock(wita(MON)))
    first = booked(await bookings_.book(c1, KTP, TUE, "pagi", "whatsapp"))
    assert first.queue_label == "A-001" and first.queue_number == 1
    assert re.fullmatch(rf"B-[{ALPHABET}]{{6}}", first.code)
    assert first.status is BookingStatus.BOOKED and first.active
    assert first.counter == KTP_SERVICE.counter
    assert first.requirements == tuple(KTP_SERVICE.requirements)
    assert (first.session_start, first.session_end) == (time(8), time(10))
    assert (first.day, first.session, first.channel, first.contact_id) == (
        TUE,
        "pagi",
        "whatsapp",
        c1,
    )
    # The queue number counts per service and day, across sessions.
    second = booked(await bookings_.book(c2, KTP, TUE, "siang", "sms"))
    assert second.queue_label == "A-002"
    other = booked(await bookings_.book(c3, "paspor", TUE, "pagi", "telegram"))
    assert other.queue_label == "H-001"
    wednesday = booked(await bookings_.book(c1, KTP, WED, "sore", "webchat"))
    assert wednesday.queue_label == "A-001"

    slots = {s.session: s for s in await bookings_.slots(KTP, TUE)}
    assert (slots["pagi"].capacity, slots["pagi"].taken, slots["pagi"].free) == (40, 1, 39)
    assert slots["sore"].free == 40 and all(s.bookable for s in slots.values())
    assert await bookings_.slots(KTP, date(2026, 12, 19)) == []
    assert await bookings_.slots("nope", TUE) == []

    typed = first.code.replace("-", " ").lower()
    assert await bookings_.get(typed) == first
    assert await bookings_.get("B-2222222") is None and await bookings_.get("hello") is None
    assert [b.code for b in await bookings_.for_contact(c1)] == [first.code, wednesday.code]
    assert [b.queue_label for b in await bookings_.list(TUE)] == ["A-001", "A-002", "H-001"]
    assert [b.queue_label for b in await bookings_.list(TUE, "paspor")] == ["H-001"]


async def test_full_session_offers_the_other_sessions_then_other_days(db: Database) -> None:
    c1, c2, c3, c4 = await new_contacts(db, 4)
    bookings_ = service(db, Clock(wita(MON)), with_quota(**{KTP: 3}))  # one place a session
    booked(await bookings_.book(c1, KTP, TUE, "pagi", "sms"))
    full = refused(await bookings_.book(c2, KTP, TUE, "pagi", "sms"))
    assert full == Refusal(Reason.FULL, "pagi", sessions=("siang", "sore"))
    booked(await bookings_.book(c2, KTP, TUE, "siang", "sms"))
    booked(await bookings_.book(c3, KTP, TUE, "sore", "sms"))
    day_full = refused(await bookings_.book(c4, KTP, TUE, "pagi", "sms"))
    assert day_full.reason is Reason.FULL and day_full.sessions == ()
    assert day_full.alternatives == (WED, date(2026, 12, 17), FRI)
    assert await taken(db, KTP, TUE, "pagi") == 1


async def test_refused_dates_come_with_the_next_bookable_days(db: Database) -> None:
    (c1,) = await new_contacts(db, 1)
    clock = Clock(wita(MON))
    bookings_ = service(db, clock)
    christmas = refused(await bookings_.book(c1, KTP, date(2026, 12, 25), "pagi", "sms"))
    assert christmas.reason is Reason.HOLIDAY and "Natal" in christmas.detail
    assert christmas.alternatives == (date(2026, 12, 28),)  # the horizon ends there
    sunday = refused(await bookings_.book(c1, KTP, date(2026, 12, 20), "pagi", "sms"))
    assert sunday.reason is Reason.CLOSED_WEEKEND
    assert sunday.alternatives == (date(2026, 12, 21), date(2026, 12, 22), date(2026, 12, 23))
    too_far = refused(await bookings_.book(c1, KTP, date(2027, 1, 4), "pagi", "sms"))
    assert too_far.reason is Reason.BEYOND_HORIZON and too_far.alternatives == (MON, TUE, WED)
    past = refused(await bookings_.book(c1, KTP, date(2026, 12, 1), "pagi", "sms"))
    assert past.reason is Reason.PAST and past.alternatives == (MON, TUE, WED)
    friday_sore = refused(await bookings_.book(c1, KTP, FRI, "sore", "sms"))
    assert friday_sore == Refusal(Reason.UNKNOWN_SESSION, "sore", sessions=("pagi", "siang"))
    assert refused(await bookings_.book(c1, "nope", TUE, "pagi", "sms")).reason is (
        Reason.UNKNOWN_SERVICE
    )
    clock.now = wita(MON, 10, 30)
    passed = refused(await bookings_.book(c1, KTP, MON, "pagi", "sms"))
    assert passed == Refusal(Reason.SESSION_PASSED, "pagi", sessions=("siang", "sore"))
    assert booked(await bookings_.book(c1, KTP, MON, "siang", "sms")).day == MON
    clock.now = wita(MON, 11, 0)
    late = refused(await bookings_.book(c1, "paspor", MON, "sore", "sms"))
    assert late.reason is Reason.AFTER_CUTOFF and late.alternatives == (
        TUE,
        WED,
        date(2026, 12, 17),
    )
    async with db.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(bookings)) == 1


async def test_one_active_booking_per_contact_service_and_day(db: Database) -> None:
    (c1,) = await new_contacts(db, 1)
    bookings_ = service(db, Clock(wita(MON)))
    first = booked(await bookings_.book(c1, KTP, TUE, "pagi", "sms"))
    again = refused(await bookings_.book(c1, KTP, TUE, "siang", "whatsapp"))
    assert again == Refusal(Reason.ALREADY_BOOKED, first.code)
    assert await taken(db, KTP, TUE, "siang") == 0
    booked(await bookings_.book(c1, "paspor", TUE, "pagi", "sms"))  # another service
    booked(await bookings_.book(c1, KTP, WED, "pagi", "sms"))  # another day
    booked(await bookings_.cancel(first.code, c1))
    assert booked(await bookings_.book(c1, KTP, TUE, "siang", "sms")).queue_label == "A-002"


async def test_a_double_tap_books_once_under_concurrency(db: Database) -> None:
    (c1,) = await new_contacts(db, 1)
    bookings_ = service(db, Clock(wita(MON)))
    results = await asyncio.gather(
        *(bookings_.book(c1, KTP, TUE, "pagi", "whatsapp") for _ in range(20))
    )
    made = [r for r in results if isinstance(r, Booking)]
    assert len(made) == 1
    assert all(
        isinstance(r, Refusal) and r.reason is Reason.ALREADY_BOOKED
        for r in results
        if r not in made
    )
    assert await taken(db, KTP, TUE, "pagi") == 1
    async with db.engine.connect() as conn:
        assert await conn.scalar(sa.select(queue_counters.c.last_number)) == 1


async def test_the_database_itself_refuses_a_second_active_booking_and_overbooking(
    db: Database,
) -> None:
    (c1,) = await new_contacts(db, 1)
    now = datetime.now(UTC)
    row = {
        "contact_id": c1,
        "service_id": KTP,
        "day": TUE,
        "session": "pagi",
        "queue_number": 1,
        "queue_label": "A-001",
        "counter": "A1",
        "channel": "sms",
        "created_at": now,
        "updated_at": now,
    }
    async with db.begin() as conn:
        await conn.execute(sa.insert(bookings).values(code="B-AAAAA2", status="booked", **row))
        await conn.execute(sa.insert(bookings).values(code="B-AAAAA3", status="cancelled", **row))
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(
                sa.insert(bookings).values(code="B-AAAAA4", status="checked_in", **row)
            )
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(booking_slots).values(
                service_id=KTP, day=TUE, session="pagi", capacity=1, taken=1
            )
        )
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(sa.update(booking_slots).values(taken=booking_slots.c.taken + 1))


async def test_cancel_gives_the_place_back(db: Database) -> None:
    c1, c2 = await new_contacts(db, 2)
    bookings_ = service(db, Clock(wita(MON)), with_quota(**{KTP: 3}))
    first = booked(await bookings_.book(c1, KTP, TUE, "pagi", "sms"))
    assert refused(await bookings_.book(c2, KTP, TUE, "pagi", "sms")).reason is Reason.FULL
    # A citizen finds only their own bookings, by code.
    assert refused(await bookings_.cancel(first.code, c2)) == Refusal(Reason.NOT_FOUND, first.code)
    assert refused(await bookings_.cancel("not a code", c1)).reason is Reason.NOT_FOUND
    cancelled = booked(await bookings_.cancel(first.code.lower(), c1))
    assert cancelled.status is BookingStatus.CANCELLED and not cancelled.active
    assert await taken(db, KTP, TUE, "pagi") == 0
    assert booked(await bookings_.book(c2, KTP, TUE, "pagi", "sms")).queue_label == "A-002"
    assert refused(await bookings_.cancel(first.code)) == Refusal(Reason.NOT_ACTIVE, "cancelled")
    assert await taken(db, KTP, TUE, "pagi") == 1
    async with db.engine.connect() as conn:
        assert await conn.scalar(
            sa.select(bookings.c.cancelled_at).where(bookings.c.code == first.code)
        )


async def test_concurrent_cancels_give_the_place_back_once(db: Database) -> None:
    c1, c2 = await new_contacts(db, 2)
    bookings_ = service(db, Clock(wita(MON)))
    first = booked(await bookings_.book(c1, KTP, TUE, "pagi", "sms"))
    booked(await bookings_.book(c2, KTP, TUE, "pagi", "sms"))
    results = await asyncio.gather(*(bookings_.cancel(first.code) for _ in range(10)))
    assert sum(isinstance(r, Booking) for r in results) == 1
    assert await taken(db, KTP, TUE, "pagi") == 1


async def test_reschedule_moves_the_booking_in_one_step(db: Database) -> None:
    c1, c2 = await new_contacts(db, 2)
    bookings_ = service(db, Clock(wita(MON)), with_quota(**{KTP: 3}))
    first = booked(await bookings_.book(c1, KTP, TUE, "pagi", "sms"))
    moved = booked(await bookings_.reschedule(first.code, WED, "siang", c1))
    assert (moved.code, moved.day, moved.session, moved.queue_label) == (
        first.code,
        WED,
        "siang",
        "A-001",
    )
    assert await taken(db, KTP, TUE, "pagi") == 0
    assert await taken(db, KTP, WED, "siang") == 1
    # Another session of the same day keeps the queue number.
    same_day = booked(await bookings_.reschedule(first.code, WED, "sore"))
    assert (same_day.session, same_day.queue_label) == ("sore", "A-001")
    assert (await taken(db, KTP, WED, "siang"), await taken(db, KTP, WED, "sore")) == (0, 1)
    # Into a full session: refused, nothing moves.
    booked(await bookings_.book(c2, KTP, TUE, "siang", "sms"))
    full = refused(await bookings_.reschedule(first.code, TUE, "siang", c1))
    assert full == Refusal(Reason.FULL, "siang", sessions=("pagi", "sore"))
    assert (await bookings_.get(first.code)) == same_day
    assert await taken(db, KTP, WED, "sore") == 1
    # Onto a holiday, with the next days offered; someone else's code is not found.
    holiday = refused(await bookings_.reschedule(first.code, date(2026, 12, 25), "pagi"))
    assert holiday.reason is Reason.HOLIDAY and holiday.alternatives == (date(2026, 12, 28),)
    assert refused(await bookings_.reschedule(first.code, TUE, "pagi", c2)).reason is (
        Reason.NOT_FOUND
    )
    # Onto a day the contact already holds for this service.
    other = booked(await bookings_.book(c1, KTP, FRI, "pagi", "sms"))
    clash = refused(await bookings_.reschedule(first.code, FRI, "siang", c1))
    assert clash == Refusal(Reason.ALREADY_BOOKED, other.code)
    assert (await bookings_.get(first.code)) == same_day
    assert (await taken(db, KTP, FRI, "siang"), await taken(db, KTP, WED, "sore")) == (0, 1)
    booked(await bookings_.cancel(first.code))
    assert refused(await bookings_.reschedule(first.code, TUE, "pagi")).reason is (
        Reason.NOT_ACTIVE
    )


async def test_check_in_only_on_the_day(db: Database) -> None:
    c1, c2 = await new_contacts(db, 2)
    clock = Clock(wita(MON, 7, 30))
    bookings_ = service(db, clock)
    today = booked(await bookings_.book(c1, KTP, MON, "pagi", "sms"))
    tomorrow = booked(await bookings_.book(c2, KTP, TUE, "pagi", "sms"))
    assert refused(await bookings_.check_in(tomorrow.code)) == Refusal(
        Reason.WRONG_DAY, TUE.isoformat()
    )
    clock.now = wita(MON, 8, 5)
    arrived = booked(await bookings_.check_in(today.code))
    assert arrived.status is BookingStatus.CHECKED_IN and arrived.active
    assert refused(await bookings_.check_in(today.code)) == Refusal(Reason.NOT_ACTIVE, "checked_in")
    assert refused(await bookings_.cancel(today.code, c1)).reason is Reason.NOT_ACTIVE
    assert refused(await bookings_.check_in("B-ZZZZZ9")).reason is Reason.NOT_FOUND
    served = booked(await bookings_.mark_served(today.code))
    assert served.status is BookingStatus.SERVED
    async with db.engine.connect() as conn:
        assert await conn.scalar(
            sa.select(bookings.c.checked_in_at).where(bookings.c.code == today.code)
        ) == wita(MON, 8, 5).astimezone(UTC)


async def test_mark_no_shows_only_touches_booked_of_that_day(db: Database) -> None:
    c1, c2, c3, c4 = await new_contacts(db, 4)
    clock = Clock(wita(MON, 7))
    bookings_ = service(db, clock)
    absent = booked(await bookings_.book(c1, KTP, MON, "pagi", "sms"))
    came = booked(await bookings_.book(c2, KTP, MON, "pagi", "sms"))
    gone = booked(await bookings_.book(c3, KTP, MON, "siang", "sms"))
    later = booked(await bookings_.book(c4, KTP, TUE, "pagi", "sms"))
    booked(await bookings_.cancel(gone.code))
    clock.now = wita(MON, 8)
    booked(await bookings_.check_in(came.code))
    with pytest.raises(ValueError, match="not happened"):
        await bookings_.mark_no_shows(TUE)
    clock.now = wita(MON, 16)
    assert await bookings_.mark_no_shows(MON) == 1
    statuses = {b.code: b.status for b in await bookings_.list(MON)}
    assert statuses == {
        absent.code: BookingStatus.NO_SHOW,
        came.code: BookingStatus.CHECKED_IN,
        gone.code: BookingStatus.CANCELLED,
    }
    assert (await bookings_.get(later.code)) == later
    assert await taken(db, KTP, MON, "pagi") == 1  # the no-show's place is given back
    assert await bookings_.mark_no_shows(MON) == 0
    assert await bookings_.for_contact(c1) == []
    assert [b.status for b in await bookings_.for_contact(c1, active_only=False)] == [
        BookingStatus.NO_SHOW
    ]


# --- no overbooking under concurrency ---------------------------------------------------------

ATTEMPTS, CAPACITY = 200, 50


async def _assert_exactly_capacity(db: Database, results: list[Booking | Refusal]) -> None:
    made = [r for r in results if isinstance(r, Booking)]
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert len(made) == CAPACITY and len(refusals) == ATTEMPTS - CAPACITY
    assert {r.reason for r in refusals} == {Reason.FULL}
    assert all(r.sessions == ("siang", "sore") for r in refusals)
    assert sorted(b.queue_number for b in made) == list(range(1, CAPACITY + 1))
    assert len({b.code for b in made}) == CAPACITY
    assert await taken(db, KTP, TUE, "pagi") == CAPACITY
    async with db.engine.connect() as conn:
        rows = await conn.scalar(sa.select(sa.func.count()).select_from(bookings))
        numbers = await conn.scalar(sa.select(queue_counters.c.last_number))
    assert rows == CAPACITY and numbers == CAPACITY


async def test_200_concurrent_attempts_for_50_places(db: Database) -> None:
    people = await new_contacts(db, ATTEMPTS)
    # 150 a day over three sessions: 50 places in the morning.
    bookings_ = service(db, Clock(wita(MON)), with_quota(**{KTP: 3 * CAPACITY}))
    assert [s.capacity for s in await bookings_.slots(KTP, TUE)] == [CAPACITY] * 3
    results = await asyncio.gather(
        *(bookings_.book(person, KTP, TUE, "pagi", "whatsapp") for person in people)
    )
    await _assert_exactly_capacity(db, list(results))


async def test_two_engines_on_one_database_share_50_places(db: Database, db_url: str) -> None:
    """Two Database objects, each with its own pool: two hub processes, one database."""
    people = await new_contacts(db, ATTEMPTS)
    catalogue = with_quota(**{KTP: 3 * CAPACITY})
    other = Database.open(db_url)
    try:
        clock = Clock(wita(MON))
        first, second = service(db, clock, catalogue), service(other, clock, catalogue)
        results = await asyncio.gather(
            *(
                (first if n % 2 else second).book(person, KTP, TUE, "pagi", "sms")
                for n, person in enumerate(people)
            )
        )
    finally:
        await other.close()
    await _assert_exactly_capacity(db, list(results))


_BOOKER = """
import asyncio, dataclasses, json, sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hub.booking import Booking, BookingService
from hub.catalogue import load_catalogue
from hub.config import BookingConfig
from hub.store import Database


async def main(url, people, quota):
    catalogue = load_catalogue()
    ktp = dataclasses.replace(catalogue.services["ktp_el_baru"], daily_quota=quota)
    catalogue = dataclasses.replace(catalogue, services={**catalogue.services, ktp.id: ktp})
    config = BookingConfig()
    wita = ZoneInfo("Asia/Makassar")
    now = datetime(2026, 12, 14, 7, tzinfo=wita)
    db = Database.open(url)
    service = BookingService(db, catalogue, config, timezone=now.tzinfo, clock=lambda: now)
    await db.ping()
    print("ready", flush=True)
    sys.stdin.readline()  # the test says go once both processes are ready
    results = await asyncio.gather(
        *(service.book(p, ktp.id, date(2026, 12, 15), "pagi", "sms") for p in people)
    )
    await db.close()
    print(json.dumps([r.queue_number if isinstance(r, Booking) else r.reason for r in results]))


asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])))
"""


async def test_two_os_processes_share_50_places(db: Database, db_url: str) -> None:
    """Two real hub processes racing on one database file or server."""
    people = await new_contacts(db, ATTEMPTS)
    halves = [people[0::2], people[1::2]]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _BOOKER,
            db_url,
            json.dumps(half),
            str(3 * CAPACITY),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for half in halves
    ]
    # Both interpreters are up and connected before either books: they race for real.
    for proc in procs:
        assert proc.stdout is not None
        ready = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert ready == b"ready\n", (ready, (await proc.communicate())[1].decode())
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
    for proc in procs:
        assert proc.stdin is not None
        await proc.stdin.drain()
    finished = await asyncio.gather(*(asyncio.wait_for(p.communicate(), 120) for p in procs))
    outcomes: list[object] = []
    for proc, (out, err) in zip(procs, finished, strict=True):
        assert proc.returncode == 0, err.decode()
        outcomes.extend(json.loads(out))
    numbers = sorted(o for o in outcomes if isinstance(o, int))
    assert numbers == list(range(1, CAPACITY + 1))
    assert outcomes.count("full") == ATTEMPTS - CAPACITY
    assert await taken(db, KTP, TUE, "pagi") == CAPACITY


async def test_the_booking_rules_follow_the_catalogue_in_use(db: Database) -> None:
    """One holder, replaced on reload: the calendar is rebuilt from the new catalogue."""
    catalogues = CurrentCatalogue(CATALOGUE)
    service = BookingService(
        db, catalogues, BookingConfig(), timezone=WITA, clock=lambda: wita(MON)
    )
    assert service.calendar.sessions(KTP_SERVICE, TUE), "KTP is open on Tuesdays"
    saturdays_only = dataclasses.replace(KTP_SERVICE, hours={"sat": "08:00-12:00"})
    catalogues.replace(
        dataclasses.replace(CATALOGUE, services={**CATALOGUE.services, KTP: saturdays_only})
    )
    assert service.catalogue.services[KTP] is saturdays_only
    assert service.calendar.sessions(saturdays_only, TUE) == [], "the new hours hold"
    assert await service.slots(KTP, TUE) == []

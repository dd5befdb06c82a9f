"""Booking a queue place in the conversation: whole conversations through the real app.

The hub's clock stands still on Monday 30 November 2026, 08:00 WITA, so "besok" is
Tuesday 1 December and the dates offered are always the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.booking import Booking, BookingStatus
from hub.catalogue import Catalogue, load_catalogue
from hub.config import Settings
from hub.dialogs.booking import STATE
from hub.store.tables import conversations
from tests.chat_client import ChatClient
from tests.chat_client import Citizen as Chat
from tests.fakes.twilio import FakeTwilio
from tests.sms_client import SmsCitizen
from tests.test_booking import new_contacts
from tests.test_twilio import settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=WITA)  # a Monday
CATALOGUE = load_catalogue()
PASPOR = CATALOGUE.services["paspor"]
KTP = CATALOGUE.services["ktp_el_baru"]
TUE, WED = date(2026, 12, 1), date(2026, 12, 2)
APPLICANT = "Made Sudiarta 5103011204850001"
"""Who comes to the counter: asked before every confirmation (a plausible Badung NIK)."""


def fixed_clock() -> datetime:
    return NOW


def with_quota(catalogue: Catalogue, **quotas: int) -> Catalogue:
    services = {
        sid: dataclasses.replace(s, daily_quota=quotas[sid]) if sid in quotas else s
        for sid, s in catalogue.services.items()
    }
    return dataclasses.replace(catalogue, services=services)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_settings(), clock=fixed_clock))


async def chat_on(client: TestClient[Any, Any]) -> Chat:
    return Chat(await ChatClient.connect(client))


def titles(reply: dict[str, Any]) -> list[str]:
    return [c["title"] for c in reply["choices"]]


def offered(reply: dict[str, Any]) -> dict[str, str]:
    return {c["title"]: c["payload"] for c in reply["choices"]}


async def bookings_of(hub: Hub) -> list[Booking]:
    return await hub.bookings.list(TUE) + await hub.bookings.list(WED)


# --- booking on the web chat ---------------------------------------------------------------


async def test_book_step_by_step_with_buttons_and_text(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [service] = await chat.say("mau ambil antrean")
    assert service["text"].startswith("Ambil antrean untuk layanan apa?")
    assert offered(service)["Paspor"] == '/book_queue{"service": "paspor"}'
    assert len(service["choices"]) == 8

    [day] = await chat.say("paspor")
    assert day["text"].startswith("Antrean Paspor untuk tanggal berapa?")
    assert offered(day) == {
        "Sen 30 Nov": '/inform{"date": "2026-11-30"}',
        "Sel 1 Des": '/inform{"date": "2026-12-01"}',
        "Rab 2 Des": '/inform{"date": "2026-12-02"}',
        "Kam 3 Des": '/inform{"date": "2026-12-03"}',
    }

    [session] = await chat.choose('/inform{"date": "2026-12-01"}')
    assert session["text"] == "Pilih sesi untuk Paspor, Selasa, 1 Desember 2026 (WITA):"
    assert offered(session) == {
        "Pagi 08:00-10:00 (17 sisa)": '/inform{"time": "pagi"}',
        "Siang 10:00-12:00 (17 sisa)": '/inform{"time": "siang"}',
        "Sore 13:00-15:00 (16 sisa)": '/inform{"time": "sore"}',
    }

    [who] = await chat.say("siang")
    # What is booked so far is said back with the question (issue #13).
    assert who["text"].startswith(
        "Antrean Paspor, Selasa, 1 Desember 2026, sesi siang 10.00-12.00 WITA.\n"
        "Antrean ini atas nama siapa?"
    )
    [confirm] = await chat.say(APPLICANT)
    assert "Layanan: " + PASPOR.name_id in confirm["text"]
    assert "Tanggal: Selasa, 1 Desember 2026" in confirm["text"]
    assert "Waktu: sesi siang 10.00-12.00 WITA" in confirm["text"]
    assert "Atas nama: Made Sudiarta, NIK 5103••••••••0001" in confirm["text"]
    assert titles(confirm) == ["Ya", "Ya, simpan", "Batal"]

    [done] = await chat.choose("/affirm")
    hub = client.app[HUB]
    [booking] = await hub.bookings.list(TUE)
    assert (booking.service_id, booking.session, booking.channel) == ("paspor", "siang", "webchat")
    text = done["text"]
    assert f"Kode booking: {booking.code}" in text and "Nomor antrean: H-001" in text
    assert f"Loket: {PASPOR.counter}" in text and "Siang, 10.00-12.00 WITA" in text
    assert all(f"- {item}" in text for item in PASPOR.requirements)
    await chat.chat.close()


async def test_book_all_at_once(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    await chat.say("antri ktp besok pagi")
    [confirm] = await chat.say(APPLICANT)
    assert "Tanggal: Selasa, 1 Desember 2026" in confirm["text"]
    assert "Waktu: sesi pagi 08.00-10.00 WITA" in confirm["text"]
    [done] = await chat.say("ya")
    assert "Nomor antrean: A-001" in done["text"]
    [booking] = await client.app[HUB].bookings.list(TUE)
    assert booking.service_id == KTP.id and booking.session == "pagi"
    await chat.chat.close()


async def test_a_correction_changes_one_slot_and_batal_leaves(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    [session] = await chat.say("antri ktp besok")
    assert session["text"].startswith("Pilih sesi untuk KTP-el baru, Selasa, 1 Desember")
    [again] = await chat.say("eh salah, maksudnya lusa")
    # The change is confirmed first (issue #13), then the flow asks what is missing.
    first, rest = again["text"].split("\n", 1)
    assert first == "Tanggal diganti: Rabu, 2 Desember 2026."
    assert rest.startswith("Pilih sesi untuk KTP-el baru, Rabu, 2 Desember 2026")
    await chat.say("pagi")
    [confirm] = await chat.say(APPLICANT)
    assert "Tanggal: Rabu, 2 Desember 2026" in confirm["text"]
    left, menu = await chat.say("batal", 2)
    assert left["text"].startswith("Baik, pengambilan antrean dibatalkan.")
    assert menu["text"].startswith("Saya bisa membantu:")
    assert await bookings_of(client.app[HUB]) == []
    # The flow is over: "ya" now books nothing.
    [after] = await chat.say("ya")
    assert "Kode booking" not in after["text"]
    assert await bookings_of(client.app[HUB]) == []
    await chat.chat.close()


async def test_a_question_mid_flow_is_answered_and_the_flow_comes_back(
    client: TestClient[Any, Any],
) -> None:
    chat = await chat_on(client)
    [day] = await chat.say("antri paspor")
    assert day["text"].startswith("Antrean Paspor untuk tanggal berapa?")
    fee, again = await chat.say("biaya paspor berapa", 2)
    assert fee["text"].startswith("Biaya " + PASPOR.name_id)
    assert again["text"] == "Kembali ke pemesanan antrean Paspor:\n" + day["text"]
    state = await _state(client)
    assert state[STATE] == {"mode": "book", "stage": "date", "service": "paspor", "also": []}
    await chat.chat.close()


async def _state(client: TestClient[Any, Any]) -> dict[str, Any]:
    hub = client.app[HUB]
    async with hub.db.engine.connect() as conn:
        row = (await conn.execute(sa.select(conversations.c.state))).one()
    state = row[0]
    return dict(state) if isinstance(state, dict) else {}


async def test_refused_dates_give_the_reason_and_the_next_dates(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    # Christmas lies beyond the default 14 days; a longer horizon reaches it.
    settings = make_settings(booking={"horizon_days": 60})
    client = await aiohttp_client(create_app(settings, clock=fixed_clock))
    chat = await chat_on(client)
    [sunday] = await chat.say("antri paspor hari minggu")
    assert sunday["text"].startswith(
        "MPP Badung tutup pada hari Sabtu dan Minggu (Minggu, 6 Desember"
    )
    assert "Tanggal terdekat yang masih bisa:" in sunday["text"]
    assert offered(sunday) == {
        "Sen 7 Des": '/inform{"date": "2026-12-07"}',
        "Sel 8 Des": '/inform{"date": "2026-12-08"}',
        "Rab 9 Des": '/inform{"date": "2026-12-09"}',
    }

    [holiday] = await chat.say("tanggal 25 desember")
    assert holiday["text"].startswith("Jumat, 25 Desember 2026 adalah hari libur (")
    assert "Natal" in holiday["text"]
    assert all(c["payload"][17:27] > "2026-12-25" for c in holiday["choices"]), holiday

    [far] = await chat.say("tanggal 5 maret 2027")
    assert far["text"].startswith("Antrean hanya bisa diambil paling lama 60 hari ke depan.")
    assert titles(far)[0] == "Sen 30 Nov"

    [past] = await chat.say("kemarin")
    assert past["text"].startswith("Tanggal Minggu, 29 November 2026 sudah lewat.")
    assert titles(past)[0] == "Sen 30 Nov"

    # The service was kept through the refusals: a good date goes on to the session.
    [session] = await chat.choose('/inform{"date": "2026-12-07"}')
    assert session["text"].startswith("Pilih sesi untuk Paspor, Senin, 7 Desember 2026")
    await chat.chat.close()


async def test_a_full_session_offers_the_other_sessions(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    hub.catalogues.replace(with_quota(hub.catalogue, paspor=3))  # one place per session
    first = await chat_on(client)
    await first.say("antri paspor besok pagi")
    await first.say(APPLICANT)
    [done] = await first.say("ya")
    assert "Nomor antrean: H-001" in done["text"]

    second = await chat_on(client)
    [refused] = await second.say("antri paspor besok pagi")
    assert refused["text"].startswith("Sesi pagi sudah penuh.\nPilih sesi lain:")
    assert titles(refused) == ["Siang 10:00-12:00 (1 sisa)", "Sore 13:00-15:00 (1 sisa)"]
    await second.choose('/inform{"time": "sore"}')
    [confirm] = await second.say("Komang Ayu 5103015506900002")
    assert "Waktu: sesi sore 13.00-15.00 WITA" in confirm["text"]
    [booked] = await second.say("ya")
    assert "Nomor antrean: H-002" in booked["text"]
    await first.chat.close()
    await second.chat.close()


async def test_check_reschedule_and_cancel(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    [none] = await chat.say("cek antrean saya")
    assert none["text"].startswith("Anda belum punya antrean yang aktif.")
    assert titles(none) == ["Ambil antrean"]

    await chat.say("antri ktp besok pagi")
    await chat.say(APPLICANT)
    await chat.say("ya")
    [booking] = await hub.bookings.list(TUE)

    [listed] = await chat.say("cek antrean saya")
    assert (
        f"- {booking.code}, no. A-001: {KTP.name_id}, Selasa, 1 Desember 2026" in (listed["text"])
    )
    assert offered(listed) == {
        "Ubah jadwal antrean": f'/reschedule_booking{{"booking_code": "{booking.code}"}}',
        "Batalkan antrean": f'/cancel_booking{{"booking_code": "{booking.code}"}}',
    }

    [day] = await chat.say("ubah jadwal antrean saya")
    assert day["text"].startswith("Pindah antrean KTP-el baru ke tanggal berapa?")
    [session] = await chat.say("lusa")
    assert session["text"].startswith("Pilih sesi untuk KTP-el baru, Rabu, 2 Desember")
    [confirm] = await chat.say("siang")
    assert confirm["text"].startswith(f"Pindahkan antrean {booking.code} (KTP-el baru, Selasa")
    assert "ke Rabu, 2 Desember 2026, sesi siang 10.00-12.00 WITA?" in confirm["text"]
    [moved] = await chat.say("ya")
    assert moved["text"].startswith(f"Antrean {booking.code} sudah dipindah.")
    assert "Nomor antrean baru: A-001" in moved["text"]
    [after] = await hub.bookings.for_contact(booking.contact_id)
    assert (after.day, after.session) == (WED, "siang")

    [ask] = await chat.choose(f'/cancel_booking{{"booking_code": "{booking.code}"}}')
    assert ask["text"].startswith(f"Batalkan antrean {booking.code} (no. A-001)")
    assert titles(ask) == ["Ya", "Batal"]
    [cancelled] = await chat.choose("/affirm")
    assert cancelled["text"].startswith(f"Antrean {booking.code} (KTP-el baru, Rabu")
    assert await hub.bookings.for_contact(booking.contact_id) == []
    [gone] = await chat.say("cek antrean saya")
    assert gone["text"].startswith("Anda belum punya antrean yang aktif.")
    await chat.chat.close()


async def test_another_citizens_code_reveals_nothing(client: TestClient[Any, Any]) -> None:
    owner = await chat_on(client)
    await owner.say("antri ktp besok pagi")
    await owner.say(APPLICANT)
    await owner.say("ya")
    [booking] = await client.app[HUB].bookings.list(TUE)

    stranger = await chat_on(client)
    [seen] = await stranger.say(f"cek antrean {booking.code}")
    assert seen["text"].startswith(f"Antrean dengan kode {booking.code} tidak ditemukan")
    [cancel] = await stranger.say(f"batalkan antrean {booking.code}")
    assert "tidak ditemukan" in cancel["text"]
    [still] = await client.app[HUB].bookings.list(TUE)
    assert still.active
    await owner.chat.close()
    await stranger.chat.close()


async def test_several_bookings_are_chosen_by_buttons(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    for text in ("antri ktp besok pagi", "antri paspor lusa sore"):
        await chat.say(text)
        await chat.say(APPLICANT)
        await chat.say("ya")
    codes = {b.service_id: b.code for b in await bookings_of(hub)}
    [pick] = await chat.say("batalkan antrean saya")
    assert pick["text"].startswith("Anda punya beberapa antrean.")
    assert offered(pick) == {
        f"{codes[KTP.id]} KTP-el baru, Sel 1 Des": (
            f'/cancel_booking{{"booking_code": "{codes[KTP.id]}"}}'
        ),
        f"{codes['paspor']} Paspor, Rab 2 Des": (
            f'/cancel_booking{{"booking_code": "{codes["paspor"]}"}}'
        ),
    }
    [ask] = await chat.choose(f'/cancel_booking{{"booking_code": "{codes["paspor"]}"}}')
    assert ask["text"].startswith(f"Batalkan antrean {codes['paspor']}")
    await chat.choose("/affirm")
    assert [b.service_id for b in await bookings_of(hub) if b.active] == [KTP.id]
    await chat.chat.close()


async def test_english_speaking_citizen(client: TestClient[Any, Any]) -> None:
    chat = await chat_on(client)
    [who] = await chat.say("book a queue for ktp tomorrow morning")
    assert who["text"].startswith(
        "New ID card (KTP), Tuesday 1 December 2026, morning session 08:00-10:00 WITA.\n"
        "Who is this booking for?"
    )
    [confirm] = await chat.say(APPLICANT)
    assert confirm["text"].startswith("Please check:")
    assert "Date: Tuesday 1 December 2026" in confirm["text"]
    assert "Time: morning session 08:00-10:00 WITA" in confirm["text"]
    assert "For: Made Sudiarta, NIK 5103••••••••0001" in confirm["text"]
    assert titles(confirm) == ["Yes", "Yes, and save", "Cancel"]
    [done] = await chat.say("yes")
    assert done["text"].startswith("Your queue number is booked.")
    assert "Queue number: A-001" in done["text"] and "Please bring:" in done["text"]
    [listed] = await chat.say("check my booking")
    assert listed["text"].startswith("Your bookings:")
    await chat.chat.close()


# --- booking by SMS ---------------------------------------------------------------------------


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def test_sms_booking_with_numbered_answers(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    app = create_app(settings_for(make_settings, twilio), clock=fixed_clock)
    client = await aiohttp_client(app)
    sms = SmsCitizen(client, twilio).say

    service = await sms("mau ambil antrean")
    assert service.startswith("Antrean untuk layanan apa?")
    assert "\n4. Paspor" in service
    day = await sms("4")
    assert day.startswith("Antrean Paspor tanggal berapa?")
    assert "1. Sen 30 Nov\n2. Sel 1 Des" in day
    session = await sms("2")
    assert "1. Pagi 08:00-10:00 (17 sisa)" in session
    who = await sms("1")
    assert who.startswith(
        "Antrean Paspor, Selasa, 1 Desember 2026, sesi pagi.\n"
        "Atas nama siapa? Balas nama lengkap + NIK (16 digit)."
    )
    confirm = await sms(APPLICANT)
    assert confirm.startswith("Antrean Paspor, Selasa, 1 Desember 2026, sesi pagi")
    assert "a.n. Made Sudiarta, NIK 5103--------0001" in confirm  # GSM text: no bullets
    assert "1. Ya\n2. Ya, simpan\n3. Batal" in confirm
    done = await sms("1")
    [booking] = await app[HUB].bookings.list(TUE)
    assert done.startswith(f"Antrean tercatat. Kode {booking.code}, no. H-001, Paspor")
    assert booking.channel == "sms"
    extra = len(PASPOR.requirements) - 3
    assert f"+{extra} lainnya" in done and done.count("\n- ") == 3


# --- races, refusals, codes and changes -------------------------------------------------------


async def test_the_session_fills_up_before_the_citizen_says_yes(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    hub.catalogues.replace(with_quota(hub.catalogue, paspor=3))  # one place per session
    chat = await chat_on(client)
    await chat.say("antri paspor besok pagi")
    [confirm] = await chat.say(APPLICANT)
    assert "Waktu: sesi pagi 08.00-10.00 WITA" in confirm["text"]
    assert titles(confirm) == ["Ya", "Ya, simpan", "Batal"]

    # Meanwhile someone else takes the last morning place.
    (other,) = await new_contacts(hub.db, 1)
    taken = await hub.bookings.book(other, PASPOR.id, TUE, "pagi", "api")
    assert isinstance(taken, Booking) and taken.queue_label == "H-001"

    [refused] = await chat.say("ya")
    assert refused["text"].startswith("Sesi pagi sudah penuh.\nPilih sesi lain:")
    assert "Kode booking" not in refused["text"]
    assert offered(refused) == {
        "Siang 10:00-12:00 (1 sisa)": '/inform{"time": "siang"}',
        "Sore 13:00-15:00 (1 sisa)": '/inform{"time": "sore"}',
    }
    assert await hub.bookings.list(TUE) == [taken]

    # The service and the date were kept: choosing a session asks to confirm again.
    [again] = await chat.choose('/inform{"time": "siang"}')
    assert "Tanggal: Selasa, 1 Desember 2026" in again["text"]
    assert "Waktu: sesi siang 10.00-12.00 WITA" in again["text"]
    [done] = await chat.say("ya")
    first, mine = await hub.bookings.list(TUE)
    assert first == taken and mine.contact_id != other
    assert (mine.session, mine.queue_label, mine.channel) == ("siang", "H-002", "webchat")
    assert f"Kode booking: {mine.code}" in done["text"] and "Nomor antrean: H-002" in done["text"]
    await chat.chat.close()


async def test_a_second_booking_for_the_same_service_and_day_is_refused(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    await chat.say("antri ktp besok pagi")
    await chat.say(APPLICANT)
    await chat.say("ya")
    [booking] = await hub.bookings.list(TUE)

    await chat.say("antri ktp besok siang")
    [confirm] = await chat.say(APPLICANT)
    assert "Waktu: sesi siang 10.00-12.00 WITA" in confirm["text"]
    [refused] = await chat.say("ya")
    assert refused["text"].startswith(
        f"Anda sudah punya antrean KTP-el baru pada hari itu, kode {booking.code}."
    )
    assert "Kode booking" not in refused["text"]
    assert offered(refused) == {"Cek antrean saya": "/check_booking"}
    assert await hub.bookings.list(TUE) == [booking]
    assert STATE not in await _state(client)

    [listed] = await chat.choose("/check_booking")
    assert f"- {booking.code}, no. A-001: {KTP.name_id}, Selasa, 1 Desember" in listed["text"]
    # The refusal ended the flow: another "ya" books nothing either.
    [after] = await chat.say("ya")
    assert "Kode booking" not in after["text"]
    assert await bookings_of(hub) == [booking]
    await chat.chat.close()


async def test_a_refused_reschedule_leaves_the_booking_as_it_was(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    hub.catalogues.replace(with_quota(hub.catalogue, ktp_el_baru=3))  # one place per session
    chat = await chat_on(client)
    await chat.say("antri ktp besok pagi")
    await chat.say(APPLICANT)
    await chat.say("ya")
    [booking] = await hub.bookings.list(TUE)
    (other,) = await new_contacts(hub.db, 1)
    assert isinstance(await hub.bookings.book(other, KTP.id, WED, "pagi", "api"), Booking)

    [sunday] = await chat.say("pindah antrean saya ke hari minggu")
    assert sunday["text"].startswith(
        "MPP Badung tutup pada hari Sabtu dan Minggu (Minggu, 6 Desember 2026)."
    )
    assert "Tanggal terdekat yang masih bisa:" in sunday["text"]
    assert offered(sunday) == {
        "Sen 7 Des": '/inform{"date": "2026-12-07"}',
        "Sel 8 Des": '/inform{"date": "2026-12-08"}',
        "Rab 9 Des": '/inform{"date": "2026-12-09"}',
    }

    [past] = await chat.say("kemarin")
    assert past["text"].startswith("Tanggal Minggu, 29 November 2026 sudah lewat.")
    assert titles(past) == ["Sen 30 Nov", "Sel 1 Des", "Rab 2 Des"]

    [full] = await chat.say("rabu pagi")
    assert full["text"].startswith("Sesi pagi sudah penuh.\nPilih sesi lain:")
    assert offered(full) == {
        "Siang 10:00-12:00 (1 sisa)": '/inform{"time": "siang"}',
        "Sore 13:00-15:00 (1 sisa)": '/inform{"time": "sore"}',
    }

    # The afternoon is taken too while the citizen confirms.
    [confirm] = await chat.choose('/inform{"time": "sore"}')
    assert confirm["text"].startswith(f"Pindahkan antrean {booking.code} (KTP-el baru, Selasa")
    assert "ke Rabu, 2 Desember 2026, sesi sore 13.00-15.00 WITA?" in confirm["text"]
    (late,) = await new_contacts(hub.db, 1)
    assert isinstance(await hub.bookings.book(late, KTP.id, WED, "sore", "api"), Booking)
    [raced] = await chat.say("ya")
    assert raced["text"].startswith("Sesi sore sudah penuh.\nPilih sesi lain:")
    assert "sudah dipindah" not in raced["text"]
    assert titles(raced) == ["Siang 10:00-12:00 (1 sisa)"]

    left, _menu = await chat.say("batal", 2)
    assert left["text"].startswith("Baik, perubahan antrean dibatalkan. Tidak ada yang berubah.")
    [after] = await hub.bookings.for_contact(booking.contact_id)
    assert after == booking
    assert (after.day, after.session, after.queue_label, after.status) == (
        TUE,
        "pagi",
        "A-001",
        BookingStatus.BOOKED,
    )
    free = {s.session: s.free for s in await hub.bookings.slots(KTP.id, WED)}
    assert free == {"pagi": 0, "siang": 1, "sore": 0}
    assert [s.free for s in await hub.bookings.slots(KTP.id, TUE)] == [0, 1, 1]
    await chat.chat.close()


async def test_a_code_typed_alone_shows_that_booking_to_its_owner_only(
    client: TestClient[Any, Any],
) -> None:
    hub = client.app[HUB]
    owner = await chat_on(client)
    await owner.say("antri ktp besok pagi")
    await owner.say(APPLICANT)
    await owner.say("ya")
    [booking] = await hub.bookings.list(TUE)
    assert booking.code.startswith("B-")

    [seen] = await owner.say(booking.code)
    assert seen["text"].startswith(
        f"Antrean Anda:\n- {booking.code}, no. A-001: {KTP.name_id}, Selasa, 1 Desember 2026, "
        f"sesi pagi 08.00-10.00 WITA, {KTP.counter}, a.n. Made Sudiarta"
    )
    assert offered(seen) == {
        "Ubah jadwal antrean": f'/reschedule_booking{{"booking_code": "{booking.code}"}}',
        "Batalkan antrean": f'/cancel_booking{{"booking_code": "{booking.code}"}}',
    }
    # Typed the way it is read out: small letters, no dash.
    [again] = await owner.say(booking.code.lower().replace("-", ""))
    assert again["text"] == seen["text"]

    stranger = await chat_on(client)
    [nothing] = await stranger.say(booking.code)
    assert nothing["text"].startswith(f"Antrean dengan kode {booking.code} tidak ditemukan")
    assert "A-001" not in nothing["text"] and "Selasa" not in nothing["text"]
    assert titles(nothing) == ["Ambil antrean"]
    assert await hub.bookings.list(TUE) == [booking]
    await owner.chat.close()
    await stranger.chat.close()


async def test_english_speaking_citizen_moves_and_cancels(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    await chat.say("book a queue for ktp tomorrow morning")
    await chat.say(APPLICANT)
    await chat.say("yes")
    [booking] = await hub.bookings.list(TUE)

    [session] = await chat.say("move my booking to Wednesday")
    assert session["text"].startswith(
        "Choose a session for New ID card (KTP) on Wednesday 2 December 2026 (WITA):"
    )
    assert titles(session) == [
        "Morning 08:00-10:00 (40 left)",
        "Midday 10:00-12:00 (40 left)",
        "Afternoon 13:00-15:00 (40 left)",
    ]
    [confirm] = await chat.choose('/inform{"time": "sore"}')
    assert confirm["text"].startswith(
        f"Move booking {booking.code} (New ID card (KTP), Tuesday 1 December 2026, "
        "morning session 08:00-10:00 WITA)"
    )
    assert "to Wednesday 2 December 2026, afternoon session 13:00-15:00 WITA?" in confirm["text"]
    assert titles(confirm) == ["Yes", "Cancel"]
    [moved] = await chat.say("yes")
    assert moved["text"].startswith(
        f"Booking {booking.code} has moved.\nNew queue number: A-001\n"
        "Date: Wednesday 2 December 2026\nTime: afternoon session 13:00-15:00 WITA"
    )
    [after] = await hub.bookings.for_contact(booking.contact_id)
    assert (after.code, after.day, after.session) == (booking.code, WED, "sore")

    [ask] = await chat.say("cancel my booking")
    assert ask["text"].startswith(
        f"Cancel booking {booking.code} (no. A-001) for {KTP.name_en}, "
        "Wednesday 2 December 2026, afternoon session 13:00-15:00 WITA, for Made Sudiarta?"
    )
    assert titles(ask) == ["Yes", "Cancel"]
    [cancelled] = await chat.say("yes")
    assert cancelled["text"].startswith(
        f"Booking {booking.code} (New ID card (KTP), Wednesday 2 December 2026) is cancelled."
    )
    assert titles(cancelled) == ["Book a queue"]
    assert await hub.bookings.for_contact(booking.contact_id) == []
    [gone] = await hub.bookings.list(WED)
    assert gone.status is BookingStatus.CANCELLED
    await chat.chat.close()


async def test_sms_cancel_with_numbered_answers_gives_the_place_back(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    app = create_app(settings_for(make_settings, twilio), clock=fixed_clock)
    client = await aiohttp_client(app)
    hub = app[HUB]
    sms = SmsCitizen(client, twilio).say

    async def free() -> dict[str, int]:
        return {s.session: s.free for s in await hub.bookings.slots(PASPOR.id, TUE)}

    before = await free()
    await sms("antri paspor besok pagi")
    confirm = await sms(APPLICANT)
    assert confirm.startswith("Antrean Paspor, Selasa, 1 Desember 2026, sesi pagi")
    done = await sms("1")
    [booking] = await hub.bookings.list(TUE)
    assert done.startswith(f"Antrean tercatat. Kode {booking.code}, no. H-001, Paspor")
    assert await free() == {**before, "pagi": before["pagi"] - 1}

    ask = await sms("batalkan antrean saya")
    assert ask.startswith(f"Batalkan antrean {booking.code} (no. H-001) untuk {PASPOR.name_id}")
    assert "1. Ya\n2. Batal" in ask
    cancelled = await sms("1")
    assert cancelled.startswith(
        f"Antrean {booking.code} (Paspor, Selasa, 1 Desember 2026) sudah dibatalkan."
    )
    assert "1. Ambil antrean" in cancelled
    [after] = await hub.bookings.list(TUE)
    assert (after.code, after.status) == (booking.code, BookingStatus.CANCELLED)
    assert await hub.bookings.for_contact(booking.contact_id) == []
    assert await free() == before
    none = await sms("cek antrean saya")
    assert none.startswith("Anda belum punya antrean yang aktif.")


async def test_a_code_typed_alone_answers_which_booking(client: TestClient[Any, Any]) -> None:
    hub = client.app[HUB]
    chat = await chat_on(client)
    for text in ("antri ktp besok pagi", "antri paspor lusa sore"):
        await chat.say(text)
        await chat.say(APPLICANT)
        await chat.say("ya")
    codes = {b.service_id: b.code for b in await bookings_of(hub)}
    [pick] = await chat.say("batalkan antrean saya")
    assert pick["text"].startswith("Anda punya beberapa antrean. Mana yang ingin dibatalkan?")
    [ask] = await chat.say(codes["paspor"])
    assert ask["text"].startswith(f"Batalkan antrean {codes['paspor']} (no. H-001)")
    [cancelled] = await chat.say("ya")
    assert cancelled["text"].startswith(f"Antrean {codes['paspor']} (Paspor, Rabu")
    assert [b.service_id for b in await bookings_of(hub) if b.active] == [KTP.id]
    await chat.chat.close()

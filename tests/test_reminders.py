"""Booking reminders and the end-of-day no-shows, with a clock the test moves by hand.

Times are WITA. A citizen books on Monday 30 November 2026 at 08:00 for Tuesday's
morning session (08:00-10:00): the first reminder is due on Monday at 16:00, the
second on Tuesday at 07:00.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.booking import Booking, BookingStatus
from hub.booking.reminder_rules import ReminderKind, ReminderRule, due_reminders
from hub.config import Settings
from hub.store.tables import booking_reminders, identities, outbox
from tests.chat_client import ChatClient, unread
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.test_twilio import CONTENT_SID, WEBHOOK, fixture, post, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

WITA = ZoneInfo("Asia/Makassar")
MONDAY = date(2026, 11, 30)
TUESDAY = date(2026, 12, 1)


def wita(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


RULE = ReminderRule(day_before_at=time(16), before_session=timedelta(hours=1), timezone=WITA)


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (wita(MONDAY, 15, 59), []),
        (wita(MONDAY, 16, 0), [ReminderKind.DAY_BEFORE]),
        (wita(MONDAY, 23, 59), [ReminderKind.DAY_BEFORE]),
        # Missed while the hub was down: too late for "tomorrow" once the day has begun.
        (wita(TUESDAY, 0, 0), []),
        (wita(TUESDAY, 6, 59), []),
        (wita(TUESDAY, 7, 0), [ReminderKind.BEFORE_SESSION]),
        (wita(TUESDAY, 7, 59), [ReminderKind.BEFORE_SESSION]),
        (wita(TUESDAY, 8, 0), []),
    ],
)
def test_reminders_are_due_in_their_windows(now: datetime, expected: list[ReminderKind]) -> None:
    due = due_reminders(RULE, TUESDAY, time(8), wita(MONDAY, 8), now)
    assert [d.kind for d in due] == expected
    for reminder in due:
        wanted = wita(MONDAY, 16) if reminder.kind is ReminderKind.DAY_BEFORE else wita(TUESDAY, 7)
        assert reminder.due_at == wanted


def test_a_booking_made_after_the_moment_gets_no_such_reminder() -> None:
    booked_late = wita(MONDAY, 17)
    assert due_reminders(RULE, TUESDAY, time(8), booked_late, wita(MONDAY, 18)) == []
    [hour_before] = due_reminders(RULE, TUESDAY, time(8), booked_late, wita(TUESDAY, 7, 30))
    assert hour_before.kind is ReminderKind.BEFORE_SESSION
    # Booked at 07:30 for 08:00: the confirmation is the reminder.
    assert due_reminders(RULE, TUESDAY, time(8), wita(TUESDAY, 7, 30), wita(TUESDAY, 7, 45)) == []


# --- through the real app -------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(wita(MONDAY, 8))


async def book_on_web_chat(client: TestClient[Any, Any]) -> tuple[ChatClient, Booking]:
    chat = await ChatClient.connect(client)
    await chat.say("antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001")
    [confirm] = await chat.replies(1)
    assert "Selasa, 1 Desember 2026" in confirm["text"], confirm["text"]
    await chat.say("ya")
    await chat.replies(1)
    [booking] = await client.app[HUB].bookings.list(TUESDAY)
    return chat, booking


async def reminder_rows(hub: Hub) -> list[Any]:
    async with hub.db.engine.connect() as conn:
        query = sa.select(booking_reminders).order_by(booking_reminders.c.id)
        return list((await conn.execute(query)).all())


async def test_reminders_go_at_16_00_the_day_before_and_an_hour_before(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat, booking = await book_on_web_chat(client)

    clock.now = wita(MONDAY, 15, 59)
    assert await hub.reminders.send_due() == 0
    clock.now = wita(MONDAY, 16, 0)
    assert await hub.reminders.send_due() == 1
    [reminder] = await chat.replies(1)
    assert reminder["text"].startswith("Pengingat: besok Anda punya antrean KTP-el baru")
    assert f"Kode booking: {booking.code}" in reminder["text"]
    assert f"Nomor antrean: {booking.queue_label}" in reminder["text"]
    assert "Waktu: sesi pagi 08.00-10.00 WITA" in reminder["text"]
    # The next tick, a minute later, finds it sent.
    clock.now = wita(MONDAY, 16, 1)
    assert await hub.reminders.send_due() == 0

    clock.now = wita(TUESDAY, 7, 0)
    assert await hub.reminders.send_due() == 1
    [soon] = await chat.replies(1)
    assert soon["text"].startswith(
        "Pengingat: antrean KTP-el baru Anda di MPP Badung dimulai pukul 08.00 WITA."
    )
    assert await unread(chat, hub) == []
    rows = await reminder_rows(hub)
    assert [(r.kind, r.due_at) for r in rows] == [
        ("day_before", wita(MONDAY, 16)),
        ("before_session", wita(TUESDAY, 7)),
    ]


async def test_no_second_reminder_after_a_restart(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    settings = make_settings()
    client = await aiohttp_client(create_app(settings, clock=clock))
    chat, _ = await book_on_web_chat(client)
    clock.now = wita(MONDAY, 16, 5)
    assert await client.app[HUB].reminders.send_due() == 1
    await chat.replies(1)

    restarted = Hub(settings, clock=clock)
    await restarted.start(dispatch=False)
    try:
        assert await restarted.reminders.send_due() == 0
        clock.now = wita(MONDAY, 20)
        assert await restarted.reminders.send_due() == 0
    finally:
        await restarted.close()
    assert len(await reminder_rows(client.app[HUB])) == 1
    assert await unread(chat, client.app[HUB]) == []


async def test_a_cancelled_booking_gets_no_reminder(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat, booking = await book_on_web_chat(client)
    cancelled = await hub.bookings.cancel(booking.code)
    assert isinstance(cancelled, Booking) and cancelled.status is BookingStatus.CANCELLED

    for now in (wita(MONDAY, 16), wita(TUESDAY, 7, 30)):
        clock.now = now
        assert await hub.bookings.due_reminders() == []
        assert await hub.reminders.send_due() == 0
    assert await reminder_rows(hub) == []
    assert await unread(chat, hub) == []


async def test_a_moved_booking_is_reminded_of_its_new_time(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat, booking = await book_on_web_chat(client)
    clock.now = wita(MONDAY, 16)
    assert await hub.reminders.send_due() == 1
    await chat.replies(1)

    clock.now = wita(MONDAY, 18)
    moved = await hub.bookings.reschedule(booking.code, TUESDAY, "siang")
    assert isinstance(moved, Booking) and moved.session == "siang"
    # 18:00 is after the day-before moment: the citizen just saw the new time.
    assert await hub.reminders.send_due() == 0
    clock.now = wita(TUESDAY, 7)
    assert await hub.reminders.send_due() == 0  # the morning session's moment: not theirs
    clock.now = wita(TUESDAY, 9)
    assert await hub.reminders.send_due() == 1
    [soon] = await chat.replies(1)
    assert "dimulai pukul 10.00 WITA" in soon["text"]


async def test_the_scheduler_sends_reminders_by_itself(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    settings = make_settings(scheduler={"tick_seconds": 0.1})
    client = await aiohttp_client(create_app(settings, clock=clock))
    jobs = sorted(client.app[HUB].scheduler.job_ids())
    assert jobs == ["announcements", "care_deadlines", "no_shows", "reminders"]
    chat, booking = await book_on_web_chat(client)
    clock.now = wita(MONDAY, 16)
    [reminder] = await chat.replies(1, timeout=5)
    assert f"Kode booking: {booking.code}" in reminder["text"]
    assert await chat.quiet(0.5) == []


async def test_two_processes_send_a_reminder_once(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    clock: Clock,
    db_url: str,
) -> None:
    settings = make_settings(storage_url=db_url)
    client = await aiohttp_client(create_app(settings, clock=clock))
    chat, _ = await book_on_web_chat(client)
    clock.now = wita(MONDAY, 16)
    others = [Hub(settings, clock=clock) for _ in range(2)]
    for other in others:
        await other.start(dispatch=False)
    try:
        sent = await asyncio.gather(
            client.app[HUB].reminders.send_due(), *(o.reminders.send_due() for o in others)
        )
    finally:
        for other in others:
            await other.close()
    assert sorted(sent) == [0, 0, 1]
    [reminder] = await chat.replies(1)
    assert reminder["text"].startswith("Pengingat: besok")
    assert await unread(chat, client.app[HUB]) == []


async def test_english_citizen_is_reminded_in_english(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    chat = await ChatClient.connect(client)
    await chat.say(
        "I want to book a queue for a passport tomorrow morning, my name is Made Sudiarta"
    )
    await chat.replies(1)
    await chat.say("NIK 5103011204850001")
    [confirm] = await chat.replies(1)
    assert "Tuesday 1 December 2026" in confirm["text"], confirm["text"]
    await chat.say("yes")
    await chat.replies(1)
    clock.now = wita(MONDAY, 16)
    assert await client.app[HUB].reminders.send_due() == 1
    [reminder] = await chat.replies(1)
    assert reminder["text"].startswith("Reminder: tomorrow you have a Passport queue booking")


# --- WhatsApp outside the 24-hour window, and SMS -------------------------------------------


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def say(client: TestClient[Any, Any], name: str, n: int, text: str) -> None:
    sid = f"SM{n:032x}"
    response = await post(client, WEBHOOK, fixture(name, MessageSid=sid, Body=text))
    assert response.status == 200


async def test_whatsapp_reminder_outside_the_window_goes_as_the_template(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    twilio: FakeTwilio,
    clock: Clock,
) -> None:
    settings = settings_for(make_settings, twilio, templates={"booking_reminder": CONTENT_SID})
    client = await aiohttp_client(create_app(settings, clock=clock))
    hub = client.app[HUB]
    await say(
        client,
        "whatsapp_text",
        1,
        "antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001",
    )
    await twilio.wait_for_messages(1)
    await say(client, "whatsapp_text", 2, "ya")
    await twilio.wait_for_messages(2)
    [booking] = await hub.bookings.list(TUESDAY)
    # The citizen's last message is now two days old: the window has closed.
    async with hub.db.begin() as conn:
        await conn.execute(
            sa.update(identities).values(last_inbound_at=datetime.now(WITA) - timedelta(days=2))
        )

    clock.now = wita(MONDAY, 16)
    assert await hub.reminders.send_due() == 1
    sent = (await twilio.wait_for_messages(3))[2]
    assert sent.field("ContentSid") == CONTENT_SID
    assert sent.field("Body") == ""
    assert json.loads(sent.field("ContentVariables")) == {
        "1": "KTP-el baru",
        "2": "Selasa, 1 Desember 2026",
        "3": "08.00-10.00 WITA",
        "4": booking.queue_label,
        "5": booking.code,
        "6": booking.counter,
    }


async def test_sms_reminder_is_one_short_message(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    twilio: FakeTwilio,
    clock: Clock,
) -> None:
    from hub.channels.sms_text import is_gsm7, segments

    client = await aiohttp_client(create_app(settings_for(make_settings, twilio), clock=clock))
    hub = client.app[HUB]
    await say(
        client,
        "sms_text",
        1,
        "antri paspor besok pagi atas nama Made Sudiarta NIK 5103011204850001",
    )
    await twilio.wait_for_messages(1)
    await say(client, "sms_text", 2, "ya")
    await twilio.wait_for_messages(2)
    [booking] = await hub.bookings.list(TUESDAY)
    clock.now = wita(MONDAY, 16)
    assert await hub.reminders.send_due() == 1
    body = (await twilio.wait_for_messages(3))[2].field("Body")
    assert body.startswith(f"MPP Badung: besok antrean Paspor no. {booking.queue_label}")
    assert booking.code in body
    assert is_gsm7(body) and segments(body) == 1, (segments(body), body)

    # Answering the reminder's hint cancels the booking.
    await say(client, "sms_text", 3, f"BATAL {booking.code}")
    ask = (await twilio.wait_for_messages(4))[3].field("Body")
    assert booking.code in ask and "1. Ya" in ask, ask
    await say(client, "sms_text", 4, "1")
    await twilio.wait_for_messages(5)
    cancelled = await hub.bookings.get(booking.code)
    assert cancelled is not None and cancelled.status is BookingStatus.CANCELLED


# --- end of day -----------------------------------------------------------------------------


async def test_no_shows_at_the_end_of_the_day_and_after_a_missed_day(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    _, booking = await book_on_web_chat(client)

    clock.now = wita(TUESDAY, 16, 59)
    assert await hub.bookings.close_days() == 0
    clock.now = wita(TUESDAY, 17)
    assert await hub.bookings.close_days() == 1
    marked = await hub.bookings.get(booking.code)
    assert marked is not None and marked.status is BookingStatus.NO_SHOW
    assert await hub.bookings.close_days() == 0
    [slot] = [s for s in await hub.bookings.slots("ktp_el_baru", TUESDAY) if s.session == "pagi"]
    assert slot.taken == 0


async def test_a_day_missed_while_down_is_closed_at_the_next_start(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    settings = make_settings()
    client = await aiohttp_client(create_app(settings, clock=clock))
    _, booking = await book_on_web_chat(client)

    clock.now = wita(date(2026, 12, 3), 9)  # Thursday morning: Tuesday has long ended
    restarted = Hub(settings, clock=clock)
    await restarted.start()  # the scheduler's first run catches up at once
    try:
        async with asyncio.timeout(5):
            while True:
                found = await restarted.bookings.get(booking.code)
                if found is not None and found.status is BookingStatus.NO_SHOW:
                    break
                await asyncio.sleep(0.05)
    finally:
        await restarted.close()


async def test_no_show_time_before_the_last_session_is_refused(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(Exception, match="no_show_at 14:00 is before the last session ends"):
        make_settings(booking={"no_show_at": "14:00"})


async def test_outbox_holds_one_row_per_reminder(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], clock: Clock
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat, _ = await book_on_web_chat(client)
    async with hub.db.engine.connect() as conn:
        before = int(await conn.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0)
    clock.now = wita(MONDAY, 16)
    for _ in range(3):
        await hub.reminders.send_due()
    await chat.replies(1)
    async with hub.db.engine.connect() as conn:
        after = int(await conn.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0)
    assert after == before + 1

"""The console's dashboard: its figures against seeded data, and its charts in a browser.

"Now" is Monday 14 December 2026, 10:00 WITA. The seeded week has messages on four
channels (some just either side of a WITA midnight), tickets in several statuses and
agencies (two breached, one breached long ago, three rated) and bookings for today,
this week and next week. The figures are read back from the page's SVG ``data-*``
attributes, which are what the bars are drawn from.
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from hub.app import HUB, Hub, create_app
from hub.care.service import TicketKind
from hub.config import Settings
from tests.clock import Clock
from tests.seeds import contact_with_conversation, messages_at
from tests.test_console_auth import PASSWORD, START, AiohttpClient
from tests.test_console_tickets import (
    ARTIFACTS,
    CSP_WATCH,
    DOCS,
    KTP,
    PASPOR,
    WITA,
    add_officer,
    advance,
    file,
    new_contact,
    page,
    settings_for,
    start,
    switch,
)

NIB = "nib_oss"  # dpmptsp
MON = date(2026, 12, 14)
TO_RESOLVED = ("verified", "forwarded", "in_progress", "resolved")


def wita(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


async def seed_messages(hub: Hub) -> None:
    """Inbound messages over the last week (and some that must not count)."""
    at = wita(MON, 9)
    async with hub.db.begin() as conn:
        _contact, conversation = await contact_with_conversation(
            conn, "whatsapp", "+6281200000009", at
        )
        plan = [
            (wita(MON, 9), "whatsapp", 3),
            (wita(MON, 9, 30), "sms", 1),
            (wita(MON, 9, 45), "webchat", 2),
            (wita(MON, 0, 30), "telegram", 1),  # 13 Dec 16:30 UTC: Monday in WITA
            (wita(MON - timedelta(days=1), 23, 30), "telegram", 1),
            (wita(date(2026, 12, 12), 11), "whatsapp", 2),
            (wita(date(2026, 12, 10), 14), "webchat", 4),
            (wita(date(2026, 12, 10), 15), "sms", 2),
            (wita(date(2026, 12, 8), 0, 10), "sms", 1),  # the first day of the seven
            (wita(date(2026, 12, 7), 23, 50), "whatsapp", 5),  # the day before: not counted
        ]
        inbound = [(when, channel) for when, channel, count in plan for _ in range(count)]
        await messages_at(conn, conversation, inbound)
        # Replies are not "messages in".
        await messages_at(conn, conversation, [(at, "whatsapp")] * 3, direction="outbound")


async def seed_tickets(hub: Hub, clock: Clock) -> None:
    # Long ago: breached in October, then rejected; outside "the last 30 days".
    clock.now = wita(date(2026, 10, 1), 9)
    old = await file(hub, await new_contact(hub, phone="+6281200000001"))
    clock.now = wita(date(2026, 10, 8), 9)
    await hub.care.check_deadlines()
    await advance(hub, old.ticket_id, "rejected")

    clock.now = wita(date(2026, 12, 8), 9)
    people = [await new_contact(hub, f"Warga {n}", f"+62812000001{n:02d}") for n in range(5)]
    await file(hub, people[0])  # disdukcapil, left received: breached on Monday
    await file(hub, people[1], service_id=PASPOR)  # imigrasi, breached on Monday
    for who, service, rating in [(2, KTP, 5), (3, PASPOR, 4), (4, KTP, 2)]:
        ticket = await file(hub, people[who], service_id=service)
        await advance(hub, ticket.ticket_id, *TO_RESOLVED)
        rated = await hub.care.rate(ticket.ticket_id, people[who], rating)
        assert rated is not None
    # The 2 reopened its ticket (in_progress); 5 and 4 closed theirs.

    clock.now = wita(MON, 9)
    await hub.care.check_deadlines()
    await file(hub, people[0], TicketKind.APPRECIATION, service_id=PASPOR, description="Ramah.")
    forwarded = await file(hub, people[1], service_id=NIB)
    await advance(hub, forwarded.ticket_id, "verified", "forwarded")
    rejected = await file(hub, people[2])
    await advance(hub, rejected.ticket_id, "rejected")


async def seed_bookings(hub: Hub, clock: Clock) -> None:
    clock.now = wita(MON, 10)
    people = [await new_contact(hub, f"Pengunjung {n}", f"+62813000002{n:02d}") for n in range(4)]

    async def book(who: int, service: str, day: date) -> str:
        slots = [s for s in await hub.bookings.slots(service, day) if s.bookable]
        assert slots, (service, day)
        booking = await hub.bookings.book(people[who], service, day, slots[0].session, "webchat")
        code = getattr(booking, "code", None)
        assert code is not None, booking
        return str(code)

    await book(0, KTP, MON)
    await book(1, KTP, MON)
    await book(0, PASPOR, MON)
    await hub.bookings.cancel(await book(2, KTP, MON))  # cancelled: not counted
    await book(0, KTP, MON + timedelta(days=1))
    await book(1, PASPOR, MON + timedelta(days=2))
    await book(3, KTP, MON + timedelta(days=7))  # next week


async def seed(hub: Hub, clock: Clock) -> None:
    await seed_messages(hub)
    await seed_tickets(hub, clock)
    await seed_bookings(hub, clock)


class Page(HTMLParser):
    """The figures a dashboard page shows: chart bars and segments, and the tiles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.svg = ""
        self.group = ""
        self.bars: dict[str, dict[str, int]] = defaultdict(dict)
        self.segments: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        self.tiles: dict[str, str] = {}
        self._tile = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self.svg = found.get("id", "")
        elif tag == "g" and "data-label" in found:
            self.group = found["data-label"]
            self.bars[self.svg][self.group] = int(found["data-value"])
        elif tag == "rect" and "data-series" in found:
            key = (self.group, found["data-series"])
            self.segments[self.svg][key] = int(found["data-value"])
        if "data-figure" in found:
            self._tile = found["data-figure"]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._tile:
            self.tiles[self._tile] = data.strip()
            self._tile = ""


DAYS = ["Sel 8/12", "Rab 9/12", "Kam 10/12", "Jum 11/12", "Sab 12/12", "Min 13/12", "Sen 14/12"]


async def test_the_dashboard_shows_the_figures_of_the_data(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    await seed(console.hub, console.clock)
    await console.add_officer("ketut", "supervisor")
    await console.add_officer("made", agencies=("disdukcapil",))
    await switch(console, "ketut")
    shown = Page(await page(console, "/console/dashboard"))

    assert shown.bars["chart-messages"] == dict(zip(DAYS, [1, 0, 6, 0, 2, 1, 7], strict=True))
    assert shown.segments["chart-messages"] == {
        ("Sel 8/12", "sms"): 1,
        ("Kam 10/12", "webchat"): 4,
        ("Kam 10/12", "sms"): 2,
        ("Sab 12/12", "whatsapp"): 2,
        ("Min 13/12", "telegram"): 1,
        ("Sen 14/12", "whatsapp"): 3,
        ("Sen 14/12", "sms"): 1,
        ("Sen 14/12", "webchat"): 2,
        ("Sen 14/12", "telegram"): 1,
    }
    assert shown.bars["chart-open-status"] == {
        "Diterima": 3,
        "Diverifikasi": 0,
        "Diteruskan": 1,
        "Diproses": 1,
        "Selesai": 0,
    }
    assert shown.bars["chart-open-agency"] == {
        "Imigrasi": 2,
        "Disdukcapil": 2,
        "DPMPTSP (perizinan)": 1,
    }
    assert shown.segments["chart-open-agency"] == {
        ("Imigrasi", "received"): 2,
        ("Disdukcapil", "received"): 1,
        ("Disdukcapil", "in_progress"): 1,
        ("DPMPTSP (perizinan)", "forwarded"): 1,
    }
    assert shown.tiles == {
        "breaches-open": "2",
        "breaches-recent": "2",
        "rating": "3,7",
        "ratings": "3",
    }
    assert shown.bars["chart-bookings-today"] == {"KTP-el baru": 2, "Paspor": 1}
    assert shown.bars["chart-bookings-week"] == {"KTP-el baru": 3, "Paspor": 2}

    # An officer of Disdukcapil: its tickets only; messages and bookings are the mall's.
    await switch(console, "made")
    text = await page(console, "/console/dashboard")
    mine = Page(text)
    assert "hanya untuk instansi Anda: Disdukcapil" in text
    assert mine.bars["chart-open-agency"] == {"Disdukcapil": 2}
    assert mine.bars["chart-open-status"]["Diterima"] == 1
    assert mine.tiles == {
        "breaches-open": "1",
        "breaches-recent": "1",
        "rating": "3,5",
        "ratings": "2",
    }
    assert mine.bars["chart-messages"] == shown.bars["chart-messages"]
    assert mine.bars["chart-bookings-week"] == shown.bars["chart-bookings-week"]


async def test_an_empty_hub_has_a_dashboard_too(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await start(aiohttp_client, make_settings)
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    text = await page(console, "/console/dashboard")
    shown = Page(text)
    assert shown.tiles == {
        "breaches-open": "0",
        "breaches-recent": "0",
        "rating": "—",
        "ratings": "0",
    }
    assert text.count("Belum ada data") >= 5
    assert 'style="' not in text and "<style" not in text, "the CSP allows no inline style"


async def test_the_dashboard_in_a_browser(
    browser: Browser,
    make_settings: Callable[..., Settings],
) -> None:
    """The SVG charts render under the CSP in Chromium; the page is saved as a picture."""
    clock = Clock(START)
    app = create_app(settings_for(make_settings), clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        hub = app[HUB]
        await seed(hub, clock)
        await add_officer(hub, clock, "ketut", "supervisor", name="Ketut Wirawan")
        base = str(server.make_url("")).rstrip("/")
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_init_script(CSP_WATCH)
        tab = await context.new_page()
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if "Refused" in m.text else None)
        tab.on("pageerror", lambda e: problems.append(str(e)))
        await tab.goto(base + "/console/dashboard")
        await tab.fill("#username", "ketut")
        await tab.fill("#password", PASSWORD)
        await tab.click("#login-submit")
        await tab.wait_for_url(base + "/console/dashboard")

        charts = tab.locator("svg.chart")
        assert await charts.count() == 5
        for n in range(5):
            box = await charts.nth(n).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 40, (n, box)
        for selector in ("#chart-messages rect.segment", "#chart-open-agency rect.segment"):
            box = await tab.locator(selector).first.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0, selector
        fill = await tab.locator("#chart-open-status rect").first.evaluate(
            "(el) => getComputedStyle(el).fill"
        )
        assert fill == "rgb(11, 92, 173)", "the fill attribute is applied"
        stylesheet = await tab.locator(".tile").first.evaluate(
            "(el) => getComputedStyle(el).borderTopStyle"
        )
        assert stylesheet == "solid", "dashboard.css is loaded"
        assert await tab.locator("#breaches-open").inner_text() == "2"
        assert await tab.evaluate("window.__cspViolations") == []
        assert problems == [], problems

        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "console-dashboard.png"
        await tab.screenshot(path=str(shot), full_page=True)
        if os.environ.get("OMNIHUB_TEST_UPDATE_DOCS") == "1":
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(shot, DOCS / "console-dashboard.png")
        await context.close()
    finally:
        await server.close()

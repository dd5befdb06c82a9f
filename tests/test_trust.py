"""The public transparency page: the small-count rule, its figures against seeded data in
both languages and as JSON, the cache, and the page in a browser.

"Now" is Monday 14 December 2026, 10:00 WITA: the last 30 days run from 15 November,
this year from 1 January. Tickets are filed and moved through ``CareService`` and
bookings made through ``BookingService`` at the times the clock is set to, as the chat
and the console would; conversations and messages are written straight into the store.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from hub.app import HUB, Hub, create_app
from hub.care.access import SYSTEM
from hub.care.service import TicketKind
from hub.care.sla import WorkingDays
from hub.catalogue import load_catalogue
from hub.config import Settings
from hub.store import Database, migrate
from hub.store.transparency import (
    TicketGroup,
    booking_groups,
    channel_groups,
    hour_groups,
    ticket_groups,
)
from hub.trust import TrustPage
from hub.trust import figures as trust_figures
from hub.trust import small_counts as rule
from hub.web import charts
from tests.clock import Clock
from tests.seeds import contact_with_conversation, messages_at
from tests.test_console_auth import AiohttpClient
from tests.test_console_tickets import (
    ARTIFACTS,
    CSP_WATCH,
    DOCS,
    KTP,
    PASPOR,
    WITA,
    file,
    new_contact,
    settings_for,
)

NIB = "nib_oss"  # dpmptsp
MON = date(2026, 12, 14)
NOW = datetime.combine(MON, time(10), WITA)
MARCH = date(2026, 3, 3)  # a Tuesday, no holiday
NAME = "Budi Santoso"
"""Named in a complaint's text: it must never reach the page."""
CITIZEN = "Warga Pelapor"


def wita(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


# --- the rule, on its own ------------------------------------------------------------------


def test_counts_below_five_are_shown_as_less_than_five() -> None:
    assert [rule.count(n).display for n in range(7)] == [
        "0",
        "< 5",
        "< 5",
        "< 5",
        "< 5",
        "5",
        "6",
    ]
    assert rule.count(3).value is None and rule.count(7).value == 7
    assert rule.count(0).value == 0
    assert rule.count(2).drawn == rule.count(4).drawn == 2.5, "every hidden count looks alike"
    assert rule.count(1234).text(lambda n: f"{n:,d}".replace(",", ".")) == "1.234"
    with pytest.raises(ValueError):
        rule.count(-1)


def test_a_count_that_would_reveal_a_small_one_by_subtraction_is_a_range() -> None:
    outer, inner = rule.nested(8, 6)  # 2 before the inner period
    assert (outer.display, inner.display) == ("7–10", "6")
    assert outer.value is None and outer.low <= 8 <= outer.high
    assert [s.display for s in rule.nested(13, 7)] == ["13", "7"]
    assert [s.display for s in rule.nested(7, 7)] == ["7", "7"]
    assert [s.display for s in rule.nested(7, 3)] == ["7", "< 5"]
    assert [s.display for s in rule.nested(3, 0)] == ["< 5", "0"]
    with pytest.raises(ValueError):
        rule.nested(3, 4)


def test_shares_medians_and_averages_need_five_items() -> None:
    assert rule.share(3, 4) is None and rule.share(4, 5) == 0.8
    assert rule.average(18, 4) is None and rule.average(20, 5) == 4
    assert rule.median({2: 4}) is None
    assert rule.median({1: 2, 3: 3}) == 3
    assert rule.median({1: 3, 5: 3}) == 3, "even: the middle two averaged"


def test_a_chart_shows_what_the_rule_lets_it_show() -> None:
    small = charts.Value(rule.count(3).drawn, rule.count(3).display, faint=True)
    svg = charts.bar_chart("c", "Pengaduan", [("Imigrasi", small), ("Disdukcapil", 7)])
    assert 'data-value="&lt; 5"' in svg and 'data-value="7"' in svg
    assert "Imigrasi: &lt; 5" in svg, "in the <title> and the <desc>"
    assert ">3<" not in svg and '"3"' not in svg and ": 3" not in svg
    assert 'fill-opacity="0.4"' in svg, "a hidden count is drawn faint"
    grid = charts.grid_chart("g", "Sibuk", ["Senin"], ["09–12", "12–15"], {(0, 0): small})
    assert 'data-value="&lt; 5"' in grid and 'data-value="0"' in grid


# --- figures from rows, without a database -------------------------------------------------


def _complaint(
    received: date, checked: date | None = None, *, resolved: date | None = None, late: bool = False
) -> TicketGroup:
    return TicketGroup(
        agency="disdukcapil",
        kind="complaint",
        recent=True,
        this_year=True,
        received_day=received,
        checked_day=checked,
        resolved_day=resolved,
        late=late,
        tickets=1,
        rating_sum=0,
        ratings=0,
    )


def test_checked_in_time_counts_working_days_from_the_day_received() -> None:
    """Received on a Friday, a 3-working-day check is due by the end of Wednesday."""
    friday, next_friday = date(2026, 12, 4), date(2026, 12, 11)
    groups = [
        _complaint(friday, date(2026, 12, 9), resolved=date(2026, 12, 11)),  # Wed: in time
        _complaint(friday, date(2026, 12, 10), late=True),  # Thursday: late
        _complaint(friday, late=True),  # never checked, past its deadline
        _complaint(friday, date(2026, 12, 7), resolved=date(2026, 12, 7)),
        _complaint(friday, date(2026, 12, 7), resolved=date(2026, 12, 8)),
        _complaint(next_friday),  # due next Wednesday: not counted yet
    ]
    win = trust_figures.window(MON, 8)
    days = WorkingDays(WITA)
    tallies = trust_figures.tally(win, groups, [], [], [], days, verify_days=3)
    agency = tallies.periods[trust_figures.RECENT].agencies["disdukcapil"]
    assert (agency.complaints, agency.checkable, agency.checked_in_time) == (6, 5, 3)
    assert (agency.settled, agency.resolved_in_time) == (5, 3)
    assert agency.resolve_days == {5: 1, 1: 1, 2: 1}, "Fri to Fri is 5 working days"
    published = trust_figures.publish(tallies, ["disdukcapil"], 3, NOW)
    (shown,) = published.periods[trust_figures.RECENT].agencies
    assert shown.checked_in_time == pytest.approx(0.6)
    assert shown.resolved_in_time == pytest.approx(0.6)
    assert shown.median_days_to_resolve is None, "3 resolved: too few for a median"


def test_in_january_the_last_30_days_hold_this_year() -> None:
    """Then the last 30 days are the outer period: their count becomes the range."""
    win = trust_figures.window(date(2027, 1, 10), 8)
    assert win.recent_first == date(2026, 12, 12) and win.year_first == date(2027, 1, 1)
    december = _complaint(date(2026, 12, 20))
    january = _complaint(date(2027, 1, 5))
    groups = [
        TicketGroup(**{**_fields(december), "this_year": False, "tickets": 2}),
        TicketGroup(**{**_fields(january), "tickets": 6}),
    ]
    tallies = trust_figures.tally(win, groups, [], [], [], WorkingDays(WITA), 3)
    published = trust_figures.publish(tallies, ["disdukcapil"], 3, NOW)
    recent = published.periods[trust_figures.RECENT].agencies[0].complaints
    year = published.periods[trust_figures.YEAR].agencies[0].complaints
    assert (recent.display, year.display) == ("7–10", "6")


def _fields(group: TicketGroup) -> dict[str, Any]:
    return {name: getattr(group, name) for name in TicketGroup.__slots__}


# --- seeded through the real services -----------------------------------------------------


async def seed_tickets(hub: Hub, clock: Clock) -> None:
    """Disdukcapil 7 complaints lately (13 this year), Imigrasi 3 (and 5 appreciations),
    DPMPTSP 6 lately and 8 this year."""
    clock.now = wita(MARCH, 9)
    early = [await new_contact(hub, f"{CITIZEN} {n}", f"+62812100000{n:02d}") for n in range(8)]
    for who in early[:6]:
        await file(hub, who)
    for who in early[6:]:
        await file(hub, who, service_id=NIB)
    clock.now = wita(date(2026, 3, 10), 9)
    await hub.care.check_deadlines()  # the March ones were never checked: late

    clock.now = wita(date(2026, 12, 1), 9)  # Tuesday: a check is due by the end of Friday
    people = [await new_contact(hub, f"{CITIZEN} {n}", f"+62812200000{n:02d}") for n in range(7)]
    text = f"Petugas {NAME} di loket 3 kasar sekali, hubungi saya di 081234567890."
    filed = [await file(hub, who, description=text) for who in people[:6]]
    filed.append(await file(hub, people[6], anonymous=True, confidential=True, description=text))
    clock.now = wita(date(2026, 12, 2), 9)
    for n in range(6):
        await file(
            hub, await new_contact(hub, f"Pemohon {n}", f"+62812300000{n:02d}"), service_id=NIB
        )

    on_time, late = filed[:5], filed[5:]
    clock.now = wita(date(2026, 12, 3), 10)
    for ticket in on_time:
        await advance(hub, ticket.ticket_id, "verified", "forwarded")
    clock.now = wita(date(2026, 12, 5), 9)
    await hub.care.check_deadlines()
    clock.now = wita(date(2026, 12, 7), 10)
    for ticket in late:
        await advance(hub, ticket.ticket_id, "verified", "forwarded")
    clock.now = wita(date(2026, 12, 8), 10)  # 5 working days after 1 December
    for ticket in on_time:
        await advance(hub, ticket.ticket_id, "in_progress", "resolved")
    clock.now = wita(date(2026, 12, 9), 10)
    for ticket in late:
        await advance(hub, ticket.ticket_id, "in_progress", "resolved")
    clock.now = wita(date(2026, 12, 10), 10)
    ratings = [5, 5, 4, 4, 3, 3]  # the fifth on-time ticket is not rated
    for ticket, who, stars in zip(
        on_time[:4] + late, people[:4] + people[5:], ratings, strict=True
    ):
        assert await hub.care.rate(ticket.ticket_id, who, stars) is not None

    for n in range(3):
        await file(
            hub, await new_contact(hub, f"Tamu {n}", f"+62812400000{n:02d}"), service_id=PASPOR
        )
    clock.now = wita(date(2026, 12, 11), 10)
    for n in range(5):
        thanks = await new_contact(hub, f"Penerima {n}", f"+62812500000{n:02d}")
        await file(hub, thanks, TicketKind.APPRECIATION, service_id=PASPOR, description="Ramah.")
    await file(hub, people[0], TicketKind.APPRECIATION, description="Terima kasih.")
    clock.now = NOW


async def advance(hub: Hub, ticket_id: str, *statuses: str) -> None:
    for status in statuses:
        await hub.care.change_status(ticket_id, status, SYSTEM, "Ditindaklanjuti.")


async def seed_bookings(hub: Hub, clock: Clock) -> None:
    """KTP: 6 visits on Tuesday 8 December, 2 of them missed; Paspor: 2 visits."""
    tuesday = date(2026, 12, 8)
    clock.now = wita(date(2026, 12, 7), 8)
    people = [await new_contact(hub, f"Pengunjung {n}", f"+62813000000{n:02d}") for n in range(8)]

    async def book(who: int, service: str, day: date) -> str:
        slots = [s for s in await hub.bookings.slots(service, day) if s.bookable]
        booking = await hub.bookings.book(people[who], service, day, slots[0].session, "webchat")
        code = getattr(booking, "code", None)
        assert code is not None, booking
        return str(code)

    ktp = [await book(n, KTP, tuesday) for n in range(6)]
    paspor = [await book(n, PASPOR, tuesday) for n in range(2)]
    await hub.bookings.cancel(await book(6, KTP, tuesday))  # cancelled: not counted
    await book(7, KTP, MON + timedelta(days=1))  # still to come: not counted
    clock.now = wita(tuesday, 9)
    for code in ktp[:4] + paspor[:1]:
        assert getattr(await hub.bookings.check_in(code), "code", None) == code
    clock.now = wita(tuesday, 18)
    assert await hub.bookings.mark_no_shows(tuesday) == 3
    clock.now = NOW


async def seed_conversations(hub: Hub) -> None:
    """New conversations per channel, and messages from citizens at chosen WITA hours."""
    async with hub.db.begin() as conn:
        plan = [("whatsapp", 6), ("webchat", 5), ("sms", 2)]
        first = 0
        for channel, many in plan:
            for n in range(many):
                _contact, conversation = await contact_with_conversation(
                    conn, channel, f"+6281400{len(channel)}{n:04d}", wita(date(2026, 12, 10), 10)
                )
                first = first or conversation
        await contact_with_conversation(conn, "telegram", "tg-1", wita(MARCH, 10))
        inbound = [
            *[(wita(MON, 9, 30), "whatsapp")] * 7,  # Monday 09–12
            (wita(MON, 0, 30), "whatsapp"),  # Sunday 16:30 UTC: Monday 00–03 in WITA
            *[(wita(MON - timedelta(days=1), 23, 30), "whatsapp")] * 5,  # Sunday 21–24
        ]
        await messages_at(conn, first, inbound, prefix="lately")
        await messages_at(conn, first, [(wita(MARCH, 10), "whatsapp")] * 3, prefix="march")
        await messages_at(conn, first, [(wita(MON, 9, 30), "whatsapp")] * 4, direction="outbound")


async def seed(hub: Hub, clock: Clock) -> None:
    await seed_tickets(hub, clock)
    await seed_bookings(hub, clock)
    await seed_conversations(hub)


class Page(HTMLParser):
    """What a page shows: table figures by row, chart bars and cells, the words."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = defaultdict(dict)
        self.names: dict[str, str] = {}
        self.bars: dict[str, dict[str, str]] = defaultdict(dict)
        self.lang = ""
        self._row = ""
        self._figure = ""
        self._name = False
        self._svg = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = found.get("lang", "")
        if tag == "tr" and ("data-agency" in found or "data-service" in found):
            self._row = found.get("data-agency") or found.get("data-service") or "(none)"
        if tag == "th" and self._row and found.get("scope") == "row":
            self._name = True
        if tag == "td" and "data-figure" in found:
            self._figure = found["data-figure"]
        if tag == "svg":
            self._svg = found.get("id", "")
        if tag == "g" and "data-label" in found and "data-value" in found:
            self.bars[self._svg][found["data-label"]] = found["data-value"]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = ""

    def handle_data(self, data: str) -> None:
        if self._name:
            self.names[self._row] = data.strip()
            self._name = False
        elif self._figure:
            self.rows[self._row][self._figure] = data.strip()
            self._figure = ""


async def get(client: Any, path: str, **headers: str) -> str:
    response = await client.get(path, headers=headers)
    text = await response.text()
    assert response.status == 200, (path, response.status, text[:300])
    return str(text)


def by_id(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


async def test_the_page_shows_the_figures_under_the_small_count_rule(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    clock = Clock(NOW)
    client = await aiohttp_client(create_app(settings_for(make_settings, db_url), clock=clock))
    await seed(client.app[HUB], clock)

    text = await get(client, "/trust")
    shown = Page(text)
    assert shown.lang == "id"
    assert shown.rows["disdukcapil"] == {
        "complaints": "7",
        "checked_in_time": "71%",
        "resolved_in_time": "71%",
        "median_days": "5 hari kerja",
        "rating": "4,0",
        "ratings": "6",
        "appreciations": "< 5",
    }
    assert shown.rows["imigrasi"] == {
        "complaints": "< 5",
        "checked_in_time": "—",
        "resolved_in_time": "—",
        "median_days": "—",
        "rating": "—",
        "ratings": "0",
        "appreciations": "5",
    }
    assert shown.rows["dpmptsp"]["complaints"] == "6"
    assert shown.rows["samsat"]["complaints"] == "0", "agencies without complaints are listed"
    assert shown.rows[KTP] == {"bookings": "6", "no_show_rate": "33%"}
    assert shown.rows[PASPOR] == {"bookings": "< 5", "no_show_rate": "—"}
    assert shown.names[KTP] == "KTP-el baru"
    assert shown.bars["chart-complaints"] == {
        "Disdukcapil": "7",
        "DPMPTSP (perizinan)": "6",
        "Imigrasi": "< 5",
    }
    assert shown.bars["chart-channels"] == {"WhatsApp": "6", "Web chat": "5", "SMS": "< 5"}
    busy = {label: value for label, value in shown.bars["chart-busy"].items() if value != "0"}
    assert busy == {"Senin 09–12": "7", "Senin 00–03": "< 5", "Minggu 21–24": "5"}

    # This year: the March complaints count too; DPMPTSP's 8 would tell, against the
    # last 30 days' 6, that 2 came earlier, so it is a range.
    year = Page(await get(client, "/trust?period=this_year"))
    assert year.rows["disdukcapil"]["complaints"] == "13"
    assert year.rows["disdukcapil"]["checked_in_time"] == "38%"
    assert year.rows["disdukcapil"]["resolved_in_time"] == "38%"
    assert year.rows["dpmptsp"]["complaints"] == "7–10"
    assert year.bars["chart-channels"]["Telegram"] == "< 5"
    assert year.bars["chart-busy"]["Selasa 09–12"] == "< 5"

    document = json.loads(await get(client, "/trust.json"))
    recent = document["periods"]["last_30_days"]
    agencies = by_id(recent["agencies"], "id")
    assert agencies["disdukcapil"]["complaints"] == {"value": 7, "display": "7", "min": 7, "max": 7}
    assert agencies["imigrasi"]["complaints"] == {
        "value": None,
        "display": "< 5",
        "min": 1,
        "max": 4,
    }
    assert agencies["disdukcapil"]["checked_in_time"] == pytest.approx(0.714)
    assert agencies["disdukcapil"]["median_working_days_to_resolve"] == 5
    assert agencies["disdukcapil"]["rating"] == {
        "average": 4.0,
        "count": {"value": 6, "display": "6", "min": 6, "max": 6},
    }
    assert agencies["imigrasi"]["checked_in_time"] is None
    bookings = by_id(recent["bookings"], "service")
    assert bookings[KTP]["no_show_rate"] == pytest.approx(0.333)
    assert bookings[PASPOR]["bookings"]["value"] is None
    assert (recent["from"], recent["to"]) == ("2026-11-15", "2026-12-14")
    this_year = by_id(document["periods"]["this_year"]["agencies"], "id")
    assert this_year["dpmptsp"]["complaints"] == {
        "value": None,
        "display": "7–10",
        "min": 7,
        "max": 10,
    }
    assert document["small_count_threshold"] == 5

    # Aggregates only: no ticket, no text, no name, no number of anyone.
    for output in (text, json.dumps(document, ensure_ascii=False)):
        for private in (NAME, CITIZEN, "CARE-2026", "081234567890", "+62812", "kasar", "Ramah"):
            assert private not in output, private


async def test_the_page_in_english(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    clock = Clock(NOW)
    client = await aiohttp_client(create_app(settings_for(make_settings), clock=clock))
    await seed_tickets(client.app[HUB], clock)

    english = Page(await get(client, "/trust?lang=en"))
    assert english.lang == "en"
    assert english.names["imigrasi"] == "Immigration"
    assert english.rows["disdukcapil"]["median_days"] == "5 working days"
    assert english.rows["disdukcapil"]["rating"] == "4.0"
    assert english.rows["imigrasi"]["complaints"] == "< 5"
    asked = await get(client, "/trust", **{"Accept-Language": "en-GB,en;q=0.9,id;q=0.5"})
    assert Page(asked).lang == "en"
    preferred = await get(client, "/trust", **{"Accept-Language": "fr, id;q=0.8, en;q=0.5"})
    assert Page(preferred).lang == "id"
    chosen = await get(client, "/trust?lang=id", **{"Accept-Language": "en"})
    assert Page(chosen).lang == "id", "the link's choice wins over the browser's"
    assert 'href="/trust?period=last_30_days&amp;lang=en"' in chosen, "the language switch"
    document = json.loads(await get(client, "/trust.json?lang=en"))
    names = {a["id"]: a["name"] for a in document["periods"]["last_30_days"]["agencies"]}
    assert names["imigrasi"] == "Immigration" and document["language"] == "en"


async def test_anyone_may_read_it_and_nobody_may_change_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    """No login, no cookie; GET (and HEAD) only; no script, no inline style, no framing."""
    client = await aiohttp_client(create_app(settings_for(make_settings), clock=Clock(NOW)))
    for path in ("/trust", "/trust.json"):
        response = await client.get(path)
        assert response.status == 200
        assert "Set-Cookie" not in response.headers
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "public, max-age=300"
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            refused = await client.request(method, path)
            assert refused.status == 405, (method, path)
    page = await (await client.get("/trust")).text()
    assert "<script" not in page and 'style="' not in page and "<style" not in page
    assert page.count('class="chart"') == 4 and "Belum ada data" in page
    stylesheet = await client.get("/trust/static/trust.css")
    assert stylesheet.status == 200 and stylesheet.content_type == "text/css"
    assert (await client.get("/trust/static/../page.html")).status == 404


# --- the cache ---------------------------------------------------------------------------


@pytest.fixture
def statements() -> Iterator[Callable[[Database], list[str]]]:
    """Every query an engine runs from now on, recorded by an event listener."""
    watched: list[tuple[Any, Callable[..., None]]] = []

    def watch(db: Database) -> list[str]:
        seen: list[str] = []

        def record(*args: Any) -> None:
            statement = str(args[2])
            if not statement.startswith("BEGIN"):  # SQLite's own, at every connection's first use
                seen.append(statement)

        engine = db.engine.sync_engine
        sa.event.listen(engine, "before_cursor_execute", record)
        watched.append((engine, record))
        return seen

    yield watch
    for engine, record in watched:
        sa.event.remove(engine, "before_cursor_execute", record)


async def test_views_within_the_ttl_run_no_query(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    statements: Callable[[Database], list[str]],
) -> None:
    """The page alone on its own database, so every statement counted is its own."""
    settings = make_settings(trust={"cache_seconds": 120})
    db = Database.open(settings.storage.url)
    await migrate.upgrade(db)
    clock = Clock(NOW)
    catalogue = load_catalogue()
    page = TrustPage(
        db=db,
        settings=settings,
        catalogue=lambda: catalogue,
        working_days=WorkingDays(WITA),
        templates=Path(__file__).parent.parent / "templates",
        clock=clock,
    )
    app = web.Application()
    app.router.add_routes(page.routes())
    client = await aiohttp_client(app)
    try:
        seen = statements(db)
        first = await get(client, "/trust")
        assert len(seen) == 4, seen
        clock.advance(seconds=119)
        assert await get(client, "/trust") == first
        await get(client, "/trust?lang=en&period=this_year")
        await get(client, "/trust.json")
        assert len(seen) == 4, "within the TTL: no query, whatever the language or format"

        async with db.begin() as conn:
            await contact_with_conversation(conn, "sms", "+6281500000001", clock.now)
        before = len(seen)
        clock.advance(seconds=1)
        fresh = Page(await get(client, "/trust"))
        assert len(seen) == before + 4, "after the TTL the four queries run again"
        assert fresh.bars["chart-channels"] == {"SMS": "< 5"}, "and the page shows new data"
        await get(client, "/trust.json")
        assert len(seen) == before + 4
    finally:
        await db.close()


async def test_each_query_searches_an_index(make_settings: Callable[..., Settings]) -> None:
    """SQLite's plan for the four queries: every table is searched through an index for
    the period (created_at, or the bookings' day), never scanned whole (on 0010's schema,
    without migration 0011, the messages were scanned)."""
    settings = make_settings()
    db = Database.open(settings.storage.url)
    await migrate.upgrade(db)
    ran: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        if not str(args[2]).startswith("BEGIN"):
            ran.append((str(args[2]), args[3]))

    engine = db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        win = trust_figures.window(MON, 8)
        async with db.engine.connect() as conn:
            for query in (ticket_groups, booking_groups, channel_groups, hour_groups):
                await query(conn, win)
        sa.event.remove(engine, "before_cursor_execute", record)
        assert len(ran) == 4
        async with db.engine.connect() as conn:
            for statement, parameters in ran:
                plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                steps = [str(row[-1]) for row in plan]
                reads = [step for step in steps if step.startswith(("SCAN", "SEARCH"))]
                # A SCAN reads every row, even "USING INDEX" (a partial one, say).
                assert reads and all(step.startswith("SEARCH") for step in reads), steps
    finally:
        await db.close()


# --- in a browser ------------------------------------------------------------------------


async def test_the_page_in_a_browser(
    browser: Browser, make_settings: Callable[..., Settings]
) -> None:
    """The SVG charts render under the page's CSP in Chromium; with
    OMNIHUB_TEST_UPDATE_DOCS=1 the page becomes docs/trust.png."""
    clock = Clock(NOW)
    app = create_app(settings_for(make_settings), clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await seed(app[HUB], clock)
        base = str(server.make_url("")).rstrip("/")
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
        await context.add_init_script(CSP_WATCH)
        tab = await context.new_page()
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if "Refused" in m.text else None)
        tab.on("pageerror", lambda e: problems.append(str(e)))
        await tab.goto(base + "/trust")  # Indonesian: the browser asks for it
        assert await tab.locator("html").get_attribute("lang") == "id"

        charts_shown = tab.locator("svg.chart")
        assert await charts_shown.count() == 4
        for n in range(4):
            box = await charts_shown.nth(n).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 40, (n, box)
        bar = await tab.locator("#chart-complaints rect").first.bounding_box()
        assert bar is not None and bar["width"] > 0
        border = await tab.locator(".table-wrap").first.evaluate(
            "(el) => getComputedStyle(el).borderTopStyle"
        )
        assert border == "solid", "trust.css is loaded"
        cell = tab.locator('#agencies tr[data-agency="imigrasi"] td[data-figure="complaints"]')
        assert await cell.inner_text() == "< 5"
        await tab.click("#switch-language")
        await tab.wait_for_url(base + "/trust?period=last_30_days&lang=en")
        assert await tab.locator("h1").inner_text() == "Service Transparency"
        assert await tab.evaluate("window.__cspViolations") == []
        assert problems == [], problems

        ARTIFACTS.mkdir(exist_ok=True)
        await tab.goto(base + "/trust")
        shot = ARTIFACTS / "trust.png"
        await tab.screenshot(path=str(shot), full_page=True)
        if os.environ.get("OMNIHUB_TEST_UPDATE_DOCS") == "1":
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(shot, DOCS / "trust.png")
        await context.close()
    finally:
        await server.close()

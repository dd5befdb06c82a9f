"""The console's dashboard: the hub's week at a glance, drawn as SVG on the server.

Each figure is one grouped query of ``hub.store.stats`` (days are WITA days); the
charts are inline SVG from ``hub.console.charts``, so the page needs no script and
no CDN. Ticket figures follow the same rule as the ticket list: an officer tied to
agencies counts only their agencies' tickets. Messages and bookings are the whole
mall's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from hub.catalogue import Catalogue
from hub.console.console_deps import CONTEXT
from hub.console.pages import render
from hub.console.session import PREFIX, current_officer, local
from hub.console.ticket_pages import agency_names, catalogue_of
from hub.console.ticket_view import CHANNEL_LABELS, STATUS_LABELS, care_actor, ticket_agencies
from hub.store import stats
from hub.store.tickets import rating_summary
from hub.web import charts

DAYS = 7
BREACH_WINDOW = timedelta(days=30)
DAY_NAMES = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")
NO_AGENCY = "(tanpa instansi)"
WIDE = 1100
"""The messages chart spans the page: drawn wider so its text keeps the others' size."""


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the dashboard shows, as numbers (tests compare these with the page)."""

    today: date
    week: tuple[date, date]
    days: list[date]
    messages: list[tuple[date, str, int]]
    """(WITA day, channel, inbound messages) for ``days``."""
    open_tickets: list[tuple[str, str, int]]
    """(status, agency or "", tickets) of the open statuses."""
    breaches_open: int
    breaches_recent: int
    rating: float | None
    ratings: int
    bookings_today: list[tuple[str, int]]
    bookings_week: list[tuple[str, int]]


async def gather(request: web.Request, agencies: list[str] | None) -> Figures:
    """The figures for "now" on the console's clock; ``agencies`` None counts every ticket."""
    ctx = request.app[CONTEXT]
    zone = ZoneInfo(ctx.settings.server.timezone)
    now = ctx.clock()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, time(0), zone)
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    week = stats.week_of(today)
    async with ctx.db.engine.connect() as conn:
        messages = await stats.messages_per_channel_per_day(
            conn, since, int(offset.total_seconds() // 3600)
        )
        open_tickets = await stats.open_tickets_by_status_and_agency(conn, agencies)
        breaches_open, breaches_recent = await stats.sla_breaches(
            conn, now - BREACH_WINDOW, agencies
        )
        rating, ratings = await rating_summary(conn, agencies)
        bookings_today = await stats.bookings_per_service(conn, today, today)
        bookings_week = await stats.bookings_per_service(conn, *week)
    return Figures(
        today=today,
        week=week,
        days=[first + timedelta(days=n) for n in range(DAYS)],
        messages=messages,
        open_tickets=open_tickets,
        breaches_open=breaches_open,
        breaches_recent=breaches_recent,
        rating=rating,
        ratings=ratings,
        bookings_today=bookings_today,
        bookings_week=bookings_week,
    )


def day_label(day: date) -> str:
    """``Sen 14/12``: short enough for a column, with the weekday people plan by."""
    return f"{DAY_NAMES[day.weekday()]} {day.day}/{day.month}"


def _messages_chart(figures: Figures) -> Markup:
    totals: dict[str, int] = defaultdict(int)
    counts: dict[tuple[date, str], int] = {}
    for day, channel, count in figures.messages:
        totals[channel] += count
        counts[day, channel] = count
    channels = sorted(totals, key=lambda c: (-totals[c], c))
    parts = charts.series(channels, CHANNEL_LABELS)
    columns = [
        (day_label(day), [counts.get((day, c), 0) for c in channels]) for day in figures.days
    ]
    return charts.stacked_columns(
        "chart-messages",
        "Pesan masuk per kanal per hari (7 hari terakhir)",
        columns,
        parts,
        width=WIDE,
    )


def _open_by_status(figures: Figures) -> Markup:
    totals: dict[str, int] = defaultdict(int)
    for status, _agency, count in figures.open_tickets:
        totals[status] += count
    statuses = stats.OPEN_TICKET_STATUSES
    items = [(STATUS_LABELS[s], totals.get(s, 0)) for s in statuses]
    colors = [part.color for part in charts.series(statuses)]  # as in the agency chart
    return charts.bar_chart("chart-open-status", "Tiket terbuka per status", items, colors)


def _open_by_agency(figures: Figures, catalogue: Catalogue) -> Markup:
    names = agency_names(catalogue)
    per_agency: dict[str, dict[str, int]] = defaultdict(dict)
    for status, agency, count in figures.open_tickets:
        per_agency[agency][status] = count
    order = sorted(per_agency, key=lambda a: (-sum(per_agency[a].values()), a))
    statuses = stats.OPEN_TICKET_STATUSES
    rows = [
        (
            names.get(agency, agency) if agency else NO_AGENCY,
            [per_agency[agency].get(s, 0) for s in statuses],
        )
        for agency in order
    ]
    parts = charts.series(statuses, STATUS_LABELS)
    return charts.stacked_bars("chart-open-agency", "Tiket terbuka per instansi", rows, parts)


def _bookings_chart(ident: str, title: str, rows: list[tuple[str, int]], cat: Catalogue) -> Markup:
    def name(service_id: str) -> str:
        service = cat.get(service_id)
        return (service.short_id or service.name_id) if service else service_id

    return charts.bar_chart(ident, title, [(name(s), count) for s, count in rows])


def stars(average: float | None) -> str:
    """``★★★★☆`` for an average of 3.5 to 4.49; empty without ratings."""
    if average is None:
        return ""
    full = max(0, min(5, round(average)))
    return "★" * full + "☆" * (5 - full)


def decimal(value: float | None) -> str:
    """One decimal, with the Indonesian decimal comma: ``4,3``."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


async def dashboard(request: web.Request) -> web.StreamResponse:
    officer = current_officer(request)
    agencies = ticket_agencies(care_actor(officer))
    figures = await gather(request, agencies)
    catalogue = catalogue_of(request)
    names = agency_names(catalogue)
    first, last = figures.week
    return render(
        request,
        "dashboard.html",
        active="dashboard",
        figures=figures,
        scope=[names.get(a, a) for a in agencies] if agencies is not None else [],
        rating_text=decimal(figures.rating),
        rating_stars=stars(figures.rating),
        today_label=day_label(figures.today),
        charts={
            "messages": _messages_chart(figures),
            "open_status": _open_by_status(figures),
            "open_agency": _open_by_agency(figures, catalogue),
            "bookings_today": _bookings_chart(
                "chart-bookings-today",
                f"Pemesanan antrean hari ini ({day_label(figures.today)})",
                figures.bookings_today,
                catalogue,
            ),
            "bookings_week": _bookings_chart(
                "chart-bookings-week",
                f"Pemesanan antrean minggu ini ({day_label(first)} – {day_label(last)})",
                figures.bookings_week,
                catalogue,
            ),
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(local(PREFIX + "/dashboard"), dashboard)

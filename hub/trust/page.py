"""``GET /trust`` and ``GET /trust.json``: the public transparency figures, for anyone.

No login: the figures are aggregates only, published through the small-count rule
(``hub.trust.small_counts``). The four grouped queries run at most once per
``trust.cache_seconds`` in a process (``hub.trust.cache``); each language and period
of the page is rendered once per refresh too, so a view in between runs no query and
renders nothing. The page holds no script; its headers forbid any, and any framing.

The language is ``?lang=id|en``, else the browser's ``Accept-Language``, else the
hub's default; the period is ``?period=last_30_days|this_year``. Unknown values fall
back to the defaults rather than failing, and only known values reach the cache keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from hub.care.sla import WorkingDays
from hub.catalogue import Catalogue
from hub.config import Settings
from hub.store import transparency as store
from hub.store.database import Database
from hub.trust import drawing, figures
from hub.trust.cache import Kept
from hub.trust.document import document
from hub.trust.figures import PERIODS, PublicPeriod, Published
from hub.trust.wording import LOCALES, Wording, load_words

PATH = "/trust"
JSON_PATH = "/trust.json"
STYLESHEET_PATH = "/trust/static/trust.css"

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
"""No script, no inline style, no framing: the page is text, tables and inline SVG."""


def wanted_locale(request: web.Request, default: str) -> str:
    """``?lang=``, else the first of the browser's languages the page has, else ``default``."""
    asked = request.query.get("lang", "")
    if asked in LOCALES:
        return asked
    preferences: list[tuple[float, int, str]] = []
    for n, part in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        primary = "id" if primary == "in" else primary  # the old code for Indonesian
        if primary in LOCALES and quality > 0:
            preferences.append((-quality, n, primary))
    return min(preferences)[2] if preferences else default


def wanted_period(request: web.Request) -> str:
    asked = request.query.get("period", "")
    return asked if asked in PERIODS else PERIODS[0]


def page_link(locale: str, period: str) -> str:
    return PATH + "?" + urlencode({"period": period, "lang": locale})


@dataclass(frozen=True, slots=True)
class AgencyRow:
    """One line of the agencies' table, every figure already written out."""

    agency: str
    name: str
    complaints: str
    checked_in_time: str
    resolved_in_time: str
    median_days: str
    rating: str
    ratings: str
    appreciations: str


@dataclass(frozen=True, slots=True)
class ServiceRow:
    service: str
    name: str
    agency: str
    bookings: str
    no_show_rate: str


def agency_rows(period: PublicPeriod, catalogue: Catalogue, w: Wording) -> list[AgencyRow]:
    return [
        AgencyRow(
            agency=a.agency or "",
            name=drawing.agency_name(catalogue, a.agency, w),
            complaints=w.count(a.complaints),
            checked_in_time=w.percent(a.checked_in_time),
            resolved_in_time=w.percent(a.resolved_in_time),
            median_days=w.working_days(a.median_days_to_resolve),
            rating=w.decimal(a.rating),
            ratings=w.count(a.ratings),
            appreciations=w.count(a.appreciations),
        )
        for a in period.agencies
    ]


def service_rows(period: PublicPeriod, catalogue: Catalogue, w: Wording) -> list[ServiceRow]:
    rows: list[ServiceRow] = []
    for s in period.services:
        service = catalogue.get(s.service_id)
        rows.append(
            ServiceRow(
                service=s.service_id,
                name=drawing.service_name(catalogue, s.service_id, w),
                agency=drawing.agency_name(catalogue, service.agency, w) if service else "",
                bookings=w.count(s.bookings),
                no_show_rate=w.percent(s.no_show_rate),
            )
        )
    return rows


class TrustPage:
    """The page's handlers, its cache and its templates; built once by ``create_app``."""

    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        catalogue: Callable[[], Catalogue],
        working_days: WorkingDays,
        templates: Path,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.settings = settings
        self.catalogue = catalogue
        self.working_days = working_days
        self.clock = clock
        self.zone = ZoneInfo(settings.server.timezone)
        self.dir = templates / "trust"
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.words = {locale: load_words(self.env, locale) for locale in LOCALES}
        self.ttl = timedelta(seconds=settings.trust.cache_seconds)
        self.figures = Kept(self.gather, self.ttl, clock)
        self._rendered: dict[tuple[str, str, str], bytes] = {}
        self._rendered_from: Published | None = None

    async def gather(self) -> Published:
        """Run the four queries and publish their figures (what the cache keeps)."""
        now = self.clock()
        local = now.astimezone(self.zone)
        offset = local.utcoffset() or timedelta(0)
        window = figures.window(local.date(), int(offset.total_seconds() // 3600))
        async with self.db.engine.connect() as conn:
            tickets = await store.ticket_groups(conn, window)
            bookings = await store.booking_groups(conn, window)
            channels = await store.channel_groups(conn, window)
            hours = await store.hour_groups(conn, window)
        verify_days = self.settings.care.verify_within_days
        tallies = figures.tally(
            window, tickets, bookings, channels, hours, self.working_days, verify_days
        )
        return figures.publish(tallies, list(self.catalogue().agencies), verify_days, now)

    async def _body(self, kind: str, locale: str, period: str) -> bytes:
        """The rendered page or document, made once per refresh of the figures."""
        published = await self.figures.get()
        if published is not self._rendered_from:
            self._rendered, self._rendered_from = {}, published
        key = (kind, locale, period)
        if key not in self._rendered:
            wording = Wording(locale, self.words[locale])
            if kind == "json":
                whole = document(
                    published, self.catalogue(), wording, self.settings.server.timezone
                )
                self._rendered[key] = json.dumps(whole, ensure_ascii=False).encode()
            else:
                self._rendered[key] = self._page(published, wording, period).encode()
        return self._rendered[key]

    def _page(self, published: Published, w: Wording, period_key: str) -> str:
        catalogue = self.catalogue()
        period = published.periods[period_key]
        taken = published.taken_at.astimezone(self.zone)
        other = str(w["other_language"])
        labels = {
            figures.RECENT: str(w["period_recent"]),
            figures.YEAR: w.fill("period_year", published.today.year),
        }
        context: Mapping[str, Any] = {
            "lang": w.locale,
            "w": w,
            "t": w.words,
            "period": period,
            "period_key": period_key,
            "periods": [(key, labels[key], page_link(w.locale, key)) for key in PERIODS],
            "period_range": w.fill("period_range", w.day(period.first), w.day(period.last)),
            "taken_at": w.fill(
                "taken_at",
                w.day(taken.date()),
                taken.strftime("%H:%M"),
                max(1, round(self.ttl.total_seconds() / 60)),
            ),
            "other_language": page_link(other, period_key),
            "other_locale": other,
            "json_link": JSON_PATH + "?" + urlencode({"lang": w.locale}),
            "verify_days": published.verify_days,
            "agencies": agency_rows(period, catalogue, w),
            "services": service_rows(period, catalogue, w),
            "charts": drawing.all_charts(period, catalogue, w),
            "stylesheet": STYLESHEET_PATH,
        }
        return self.env.get_template("page.html").render(context)

    def _headers(self) -> dict[str, str]:
        return {
            **HEADERS,
            "Cache-Control": f"public, max-age={int(self.ttl.total_seconds())}",
            "Vary": "Accept-Language",
        }

    async def page(self, request: web.Request) -> web.Response:
        """The page, for anyone."""
        locale = wanted_locale(request, self.settings.locale.default)
        body = await self._body("html", locale, wanted_period(request))
        return web.Response(
            body=body,
            content_type="text/html",
            charset="utf-8",
            headers={**self._headers(), "Content-Language": locale},
        )

    async def data(self, request: web.Request) -> web.Response:
        """The same figures as JSON, for anyone (any site may read them: open data)."""
        locale = wanted_locale(request, self.settings.locale.default)
        body = await self._body("json", locale, "")
        return web.Response(
            body=body,
            content_type="application/json",
            charset="utf-8",
            headers={
                **self._headers(),
                "Content-Language": locale,
                "Access-Control-Allow-Origin": "*",
            },
        )

    async def stylesheet(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            self.dir / "trust.css",
            headers={
                "Content-Type": "text/css",
                "Cache-Control": "public, max-age=3600",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def routes(self) -> list[web.RouteDef]:
        """GET (and HEAD) only: any other method is answered 405 by aiohttp."""
        return [
            web.get(PATH, self.page),
            web.get(JSON_PATH, self.data),
            web.get(STYLESHEET_PATH, self.stylesheet),
        ]

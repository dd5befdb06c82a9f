"""The page's four charts, drawn as SVG by ``hub.web.charts`` from published figures.

Only published figures reach here, and each is passed to the chart as a
:class:`~hub.web.charts.Value` (its text and the length to draw): a ``< 5`` bar is drawn
faint at the middle of 1 to 4, so neither the markup nor the geometry tells its number.
Bars are ordered by what they show, hidden ones by name, so the order tells nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from hub.catalogue import Catalogue
from hub.trust.figures import BAND_HOURS, BANDS, PublicPeriod
from hub.trust.small_counts import Shown
from hub.trust.wording import Wording
from hub.web import charts


def value(shown: Shown, wording: Wording) -> charts.Value:
    return charts.Value(shown.drawn, wording.count(shown), faint=shown.value is None)


def agency_name(catalogue: Catalogue, agency: str | None, wording: Wording) -> str:
    if agency is None:
        return str(wording["no_agency"])
    known = catalogue.agencies.get(agency)
    return known.wording(wording.locale).short if known else agency


def service_name(catalogue: Catalogue, service_id: str, wording: Wording) -> str:
    service = catalogue.get(service_id)
    return service.wording(wording.locale).short if service else service_id


def band_label(first_hour: int) -> str:
    return f"{first_hour:02d}–{first_hour + BAND_HOURS:02d}"


def _bars(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, Shown]],
    wording: Wording,
) -> Markup:
    shown = [(label, count) for label, count in rows if count.drawn]
    ordered = sorted(shown, key=lambda row: (-row[1].drawn, row[0]))
    items = [(label, value(count, wording)) for label, count in ordered]
    return charts.bar_chart(ident, title, items, empty=str(wording["empty"]))


def complaints_chart(period: PublicPeriod, catalogue: Catalogue, wording: Wording) -> Markup:
    rows = [(agency_name(catalogue, a.agency, wording), a.complaints) for a in period.agencies]
    return _bars("chart-complaints", str(wording["chart_complaints"]), rows, wording)


def bookings_chart(period: PublicPeriod, catalogue: Catalogue, wording: Wording) -> Markup:
    rows = [(service_name(catalogue, s.service_id, wording), s.bookings) for s in period.services]
    return _bars("chart-bookings", str(wording["chart_bookings"]), rows, wording)


def channels_chart(period: PublicPeriod, wording: Wording) -> Markup:
    rows = [(wording.channel(channel), count) for channel, count in period.channels]
    return _bars("chart-channels", str(wording["chart_channels"]), rows, wording)


def busy_chart(period: PublicPeriod, wording: Wording) -> Markup:
    cells = {
        (weekday, column): value(period.busy[weekday, band], wording)
        for weekday in range(7)
        for column, band in enumerate(BANDS)
    }
    return charts.grid_chart(
        "chart-busy",
        str(wording["chart_busy"]),
        [wording.weekday(weekday) for weekday in range(7)],
        [band_label(band) for band in BANDS],
        cells,
        empty=str(wording["empty"]),
    )


def all_charts(period: PublicPeriod, catalogue: Catalogue, wording: Wording) -> dict[str, Markup]:
    """Every chart of one period, by the name the page template uses."""
    return {
        "complaints": complaints_chart(period, catalogue, wording),
        "bookings": bookings_chart(period, catalogue, wording),
        "busy": busy_chart(period, wording),
        "channels": channels_chart(period, wording),
    }

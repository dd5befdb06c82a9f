"""The figures as ``GET /trust.json`` gives them: the same published figures as the page.

A count is ``{"value": 7, "display": "7", "min": 7, "max": 7}``; one the small-count
rule hides is ``{"value": null, "display": "< 5", "min": 1, "max": 4}`` (or a range such
as ``7–10``). A share, median or average that may not be shown is ``null``. Names are in
the language asked for; ids (agency, service, channel) are the catalogue's and the hub's.
"""

from __future__ import annotations

from typing import Any

from hub.catalogue import Catalogue
from hub.trust.drawing import agency_name, band_label, service_name
from hub.trust.figures import BANDS, PublicPeriod, Published
from hub.trust.small_counts import THRESHOLD, Shown
from hub.trust.wording import Wording


def count(shown: Shown) -> dict[str, Any]:
    return {"value": shown.value, "display": shown.display, "min": shown.low, "max": shown.high}


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _period(period: PublicPeriod, catalogue: Catalogue, wording: Wording) -> dict[str, Any]:
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "agencies": [
            {
                "id": a.agency,
                "name": agency_name(catalogue, a.agency, wording),
                "complaints": count(a.complaints),
                "checked_in_time": _rounded(a.checked_in_time, 3),
                "resolved_within_deadline": _rounded(a.resolved_in_time, 3),
                "median_working_days_to_resolve": _rounded(a.median_days_to_resolve, 1),
                "rating": {"average": _rounded(a.rating, 2), "count": count(a.ratings)},
                "appreciations": count(a.appreciations),
            }
            for a in period.agencies
        ],
        "bookings": [
            {
                "service": s.service_id,
                "name": service_name(catalogue, s.service_id, wording),
                "agency": service.agency if (service := catalogue.get(s.service_id)) else None,
                "bookings": count(s.bookings),
                "no_show_rate": _rounded(s.no_show_rate, 3),
            }
            for s in period.services
        ],
        "channels": [
            {"channel": channel, "name": wording.channel(channel), "conversations": count(shown)}
            for channel, shown in period.channels
        ],
        "busy": [
            {
                "weekday": weekday + 1,
                "hours": band_label(band),
                "messages": count(period.busy[weekday, band]),
            }
            for weekday in range(7)
            for band in BANDS
        ],
    }


def document(
    published: Published, catalogue: Catalogue, wording: Wording, timezone: str
) -> dict[str, Any]:
    """The whole JSON document, in ``wording``'s language."""
    return {
        "generated_at": published.taken_at.isoformat(),
        "timezone": timezone,
        "language": wording.locale,
        "small_count_threshold": THRESHOLD,
        "verify_within_working_days": published.verify_days,
        "periods": {
            key: _period(period, catalogue, wording) for key, period in published.periods.items()
        },
    }

"""What templates get for a booking or a service: plain dicts, worded by the templates.

Shared by the booking flow and by messages the citizen did not ask for (reminders),
so a booking reads the same in a confirmation and in a reminder.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from hub.booking import Booking
from hub.catalogue import Catalogue, Service
from hub.dialogs.info import brief_requirement, short_name


def day_view(day: date) -> dict[str, Any]:
    """A date for templates, which name weekdays and months in their own language."""
    return {
        "iso": day.isoformat(),
        "weekday": day.weekday(),
        "day": day.day,
        "month": day.month,
        "year": day.year,
    }


def hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value is not None else ""


def service_view(service: Service, locale: str) -> dict[str, Any]:
    words = service.wording(locale)
    return {
        "id": service.id,
        "name": words.name,
        "short": short_name(service, locale),
        "counter": words.counter,
    }


def booking_view(booking: Booking, catalogue: Catalogue, locale: str) -> dict[str, Any]:
    service = catalogue.get(booking.service_id)
    about = (
        service_view(service, locale)
        if service is not None
        else {"id": booking.service_id, "name": booking.service_id, "short": "", "counter": ""}
    )
    requirements = _in_language(booking.requirements, service, locale)
    return {
        "code": booking.code,
        "queue": booking.queue_label,
        "counter": _counter(booking.counter, service, locale),
        "service": about,
        "date": day_view(booking.day),
        "session": {
            "name": booking.session,
            "start": hhmm(booking.session_start),
            "end": hhmm(booking.session_end),
        },
        "status": booking.status.value,
        "requirements": requirements,
        "requirements_brief": [brief_requirement(r) for r in requirements],
        # Who comes (name, masked NIK): the booking flow fills it in, as it holds the vault.
        "applicant": None,
    }


def _in_language(requirements: tuple[str, ...], service: Service | None, locale: str) -> list[str]:
    """A booking's requirements (the catalogue's sourced list) in the citizen's language.

    Each item is looked up in the service's sourced list and replaced by its
    translation; one the catalogue no longer has stays as the booking holds it."""
    if service is None:
        return list(requirements)
    translated = dict(zip(service.requirements, service.wording(locale).requirements, strict=True))
    return [translated.get(item, item) for item in requirements]


def _counter(counter: str, service: Service | None, locale: str) -> str:
    """The counter a booking was given, translated while it is still the service's counter."""
    if service is not None and counter == service.counter:
        return service.wording(locale).counter
    return counter

"""Times as citizens say them ("jam 9", "9:30", "jam 1 siang", "pagi", "after lunch"),
mapped to the booking sessions that contain them.

Sessions come from the booking config; a service holds on a day only those that fit
its hours that day (Friday 08:00-13:00 has no afternoon session). A time the service
does not hold that day (before opening, after closing, the midday break, Friday
afternoon) is not silently rounded: the citizen is told the hours of that day and
offered the sessions that day still has, and the next days holding the one asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Any

from hub.booking import BookingService, SlotInfo
from hub.catalogue import Service
from hub.config import BookingSession
from hub.dialogs.booking_choices import day_session_choice, session_choice
from hub.dialogs.views import day_view, hhmm, service_view
from hub.model import Choice, Reply

LATER_DAYS = 2
"""Other days offered with the session asked for: with the day's sessions an SMS menu."""


def session_at(sessions: Sequence[BookingSession], value: str) -> str | None:
    """The session named ("pagi") or holding the clock time ("09:30"); None if none does."""
    for session in sessions:
        if session.name == value:
            return session.name
    try:
        at = time.fromisoformat(value)
    except ValueError:
        return None
    return next((s.name for s in sessions if s.start <= at < s.end), None)


def why_not(hours: tuple[time, time] | None, asked: str, sessions: Sequence[BookingSession]) -> str:
    """Why ``asked`` has no session that day: ``before_open``, ``after_close`` or
    ``between`` (inside the hours, but no session holds it: the midday break)."""
    if hours is None:
        return "closed"
    opens, closes = hours
    named = next((s for s in sessions if s.name == asked), None)
    if named is not None:
        start, end = named.start, named.end
    else:
        try:
            start = end = time.fromisoformat(asked)
        except ValueError:  # a part of day without a session ("malam")
            return "after_close"
    if end <= opens or start < opens:
        return "before_open"
    if start >= closes:
        return "after_close"
    return "between"


def asked_view(asked: str) -> dict[str, str]:
    """What the citizen asked for, for templates: a part of day or a clock time."""
    try:
        return {"clock": hhmm(time.fromisoformat(asked))}
    except ValueError:
        return {"part": asked}


async def outside_hours(
    bookings: BookingService,
    services: Sequence[Service],
    day: date,
    asked: str,
    free: Sequence[SlotInfo],
    locale: str,
) -> Reply:
    """The reply to a time the services do not hold on ``day``, with the alternatives."""
    first = services[0]
    sessions = bookings.config.sessions
    hours = bookings.calendar.hours(first, day)
    wanted = session_at(sessions, asked)
    later: list[date] = []
    if wanted is not None:
        later = await _days_with(bookings, services, day, wanted)
    choices: tuple[Choice, ...] = (
        *(session_choice(s) for s in free),
        *(day_session_choice(d, str(wanted)) for d in later),
    )
    context: dict[str, Any] = {
        "service": service_view(first, locale),
        "date": day_view(day),
        "asked": asked_view(asked),
        "why": why_not(hours, asked, sessions),
        "opens": hhmm(hours[0]) if hours else "",
        "closes": hhmm(hours[1]) if hours else "",
        "same_day": bool(free),
        "later": bool(later),
        "wanted": wanted or "",
    }
    return Reply("booking_time_outside", context, choices=choices)


async def _days_with(
    bookings: BookingService, services: Sequence[Service], after: date, session: str
) -> list[date]:
    """The next days (after ``after``) on which every service has ``session`` free."""
    found: list[date] = []
    now = bookings.clock()
    for day in bookings.calendar.bookable_days(services[0], after, now):
        if all([await _has(bookings, s, day, session) for s in services]):
            found.append(day)
            if len(found) >= LATER_DAYS:
                break
    return found


async def _has(bookings: BookingService, service: Service, day: date, session: str) -> bool:
    return any(s.session == session and s.bookable for s in await bookings.slots(service.id, day))

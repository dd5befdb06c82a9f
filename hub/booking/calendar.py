"""When a service can be booked: opening days, sessions and their capacity, in the hub's zone.

Rules, in the order a refusal is reported:

- no day before today (``past``) and none after today + ``booking.horizon_days``
  (``beyond_horizon``);
- today only before ``booking.same_day_cutoff`` and while one of today's sessions
  has not yet ended (``after_cutoff``);
- a weekday the service's catalogue ``hours`` do not open: ``closed_weekend`` on
  Saturday and Sunday, ``service_closed`` otherwise;
- a closure: ``booking.closures`` (cuti bersama, a ceremony), the services.yaml
  ``holidays_2026_bali`` dates whose status is in ``booking.holiday_statuses_closed``,
  and Indonesia's holidays from the ``holidays`` package (``holiday``, with its name);
- a day on which no configured session fits within the service's hours
  (``service_closed``).

A session exists on a day only if it lies within the service's hours that day
(Friday 08:00-13:00 has ``pagi`` and ``siang``, not ``sore``); the service's
``daily_quota`` is shared over that day's sessions, the remainder going to the first.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from hub.catalogue import Catalogue, CatalogueError, Service
from hub.config import BookingConfig

# services.yaml ``hours`` keys -> weekdays (Monday = 0).
_DAY_KEYS: dict[str, tuple[int, ...]] = {
    "mon": (0,),
    "tue": (1,),
    "wed": (2,),
    "thu": (3,),
    "fri": (4,),
    "sat": (5,),
    "sun": (6,),
    "mon_thu": (0, 1, 2, 3),
    "mon_fri": (0, 1, 2, 3, 4),
    "sat_sun": (5, 6),
}
_HOURS = re.compile(r"(\d{1,2})[.:](\d{2})\s*-\s*(\d{1,2})[.:](\d{2})")


class Reason(enum.StrEnum):
    """Why a booking (or a change to one) was refused; dialogs pick their wording by it."""

    PAST = "past"
    BEYOND_HORIZON = "beyond_horizon"
    AFTER_CUTOFF = "after_cutoff"
    CLOSED_WEEKEND = "closed_weekend"
    HOLIDAY = "holiday"
    SERVICE_CLOSED = "service_closed"
    UNKNOWN_SERVICE = "unknown_service"
    UNKNOWN_SESSION = "unknown_session"
    SESSION_PASSED = "session_passed"
    FULL = "full"
    ALREADY_BOOKED = "already_booked"
    NOT_FOUND = "not_found"
    NOT_ACTIVE = "not_active"
    WRONG_DAY = "wrong_day"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused request, with what the citizen can have instead.

    ``alternatives`` are the next bookable days (with free places when the booking
    service computed them); ``sessions`` are other sessions of the same day that
    still have room, offered when the asked-for session is full.
    """

    reason: Reason
    detail: str = ""
    alternatives: tuple[date, ...] = ()
    sessions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Session:
    """One session of one service on one day, with its share of the daily quota."""

    name: str
    start: time
    end: time
    capacity: int


def _parse_hours(service: Service) -> dict[int, tuple[time, time]]:
    """The service's opening hours per weekday; a weekday not listed is closed."""
    opening: dict[int, tuple[time, time]] = {}
    for key, value in service.hours.items():
        days = _DAY_KEYS.get(key.strip().lower())
        if days is None:
            raise CatalogueError(f"service {service.id!r}: unknown hours key {key!r}")
        text = value.strip().lower()
        if text.startswith(("closed", "tutup", "libur")):
            continue
        match = _HOURS.fullmatch(text)
        if match is None:
            raise CatalogueError(
                f"service {service.id!r}: hours {key}: {value!r} is neither 'HH:MM-HH:MM' "
                "nor 'closed'"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            opens, closes = time(h1, m1), time(h2, m2)
        except ValueError as error:
            raise CatalogueError(f"service {service.id!r}: hours {key}: {error}") from error
        if closes <= opens:
            raise CatalogueError(f"service {service.id!r}: hours {key}: closes before it opens")
        for day in days:
            opening[day] = (opens, closes)
    return opening


def _catalogue_closures(catalogue: Catalogue, statuses: list[str]) -> dict[date, str]:
    closures: dict[date, str] = {}
    for entry in catalogue.holidays:
        status = str(entry.get("status", "")).strip().lower()
        if not any(status.startswith(closed) for closed in statuses):
            continue
        try:
            day = date.fromisoformat(str(entry.get("date", "")))
        except ValueError as error:
            raise CatalogueError(f"holidays_2026_bali: bad date {entry.get('date')!r}") from error
        closures.setdefault(day, str(entry.get("name", "")) or status)
    return closures


class BookingCalendar:
    """The booking rules that need no database: which days and sessions exist."""

    def __init__(self, catalogue: Catalogue, config: BookingConfig, timezone: ZoneInfo) -> None:
        """``timezone`` is ``server.timezone``: days, cut-offs and sessions are read in it."""
        self.config = config
        self.timezone = timezone
        self._hours = {s.id: _parse_hours(s) for s in catalogue.services.values()}
        self._closures = {c.date: c.name for c in config.closures}
        self._bali = _catalogue_closures(catalogue, config.holiday_statuses_closed)
        # Years are filled in on first lookup; the object belongs to this calendar only.
        self._national = holidays.country_holidays(
            "ID", categories=tuple(config.holiday_categories), language="id"
        )

    def local(self, now: datetime) -> datetime:
        if now.tzinfo is None:
            raise ValueError("use an aware datetime")
        return now.astimezone(self.timezone)

    def today(self, now: datetime) -> date:
        """The local calendar day at ``now``."""
        return self.local(now).date()

    def last_bookable_day(self, now: datetime) -> date:
        return self.today(now) + timedelta(days=self.config.horizon_days)

    def closure(self, day: date) -> str | None:
        """The name of the closure or holiday on ``day``: configured, Bali, then national."""
        if day in self._closures:
            return self._closures[day]
        if day in self._bali:
            return self._bali[day]
        name = self._national.get(day)
        return str(name) if name else None

    def hours(self, service: Service, day: date) -> tuple[time, time] | None:
        """When the service's counter is open on ``day``'s weekday; None when closed."""
        return self._hours.get(service.id, {}).get(day.weekday())

    def sessions(self, service: Service, day: date) -> list[Session]:
        """The sessions the service holds on ``day``, each with its capacity; [] if closed."""
        hours = self.hours(service, day)
        if hours is None or self.closure(day) is not None:
            return []
        opens, closes = hours
        fitting = [s for s in self.config.sessions if opens <= s.start and s.end <= closes]
        if not fitting:
            return []
        share, remainder = divmod(service.daily_quota, len(fitting))
        sessions = [
            Session(s.name, s.start, s.end, share + (1 if index < remainder else 0))
            for index, s in enumerate(fitting)
        ]
        return [s for s in sessions if s.capacity > 0]

    def session(self, service: Service, day: date, name: str) -> Session | None:
        return next((s for s in self.sessions(service, day) if s.name == name), None)

    def session_passed(self, session: Session, day: date, now: datetime) -> bool:
        """True when ``session`` of ``day`` has ended: nobody can still come to it."""
        local = self.local(now)
        return day < local.date() or (day == local.date() and local.time() >= session.end)

    def check(self, service: Service, day: date, now: datetime) -> Refusal | None:
        """None when ``day`` can be booked for ``service`` at ``now``, else why not."""
        local = self.local(now)
        today = local.date()
        if day < today:
            return Refusal(Reason.PAST)
        if day > self.last_bookable_day(now):
            return Refusal(Reason.BEYOND_HORIZON, str(self.config.horizon_days))
        if day == today and local.time() >= self.config.same_day_cutoff:
            return Refusal(Reason.AFTER_CUTOFF, self.config.same_day_cutoff.strftime("%H:%M"))
        if self.hours(service, day) is None:
            weekend = day.weekday() >= 5
            return Refusal(Reason.CLOSED_WEEKEND if weekend else Reason.SERVICE_CLOSED)
        name = self.closure(day)
        if name is not None:
            return Refusal(Reason.HOLIDAY, name)
        sessions = self.sessions(service, day)
        if not sessions:
            return Refusal(Reason.SERVICE_CLOSED)
        if all(self.session_passed(s, day, now) for s in sessions):
            return Refusal(Reason.AFTER_CUTOFF, self.config.same_day_cutoff.strftime("%H:%M"))
        return None

    def bookable_days(self, service: Service, after_day: date, now: datetime) -> Iterator[date]:
        """Every bookable day after ``after_day`` (and not before today), within the horizon."""
        day = max(after_day + timedelta(days=1), self.today(now))
        last = self.last_bookable_day(now)
        while day <= last:
            if self.check(service, day, now) is None:
                yield day
            day += timedelta(days=1)

    def next_bookable(
        self, service: Service, after_day: date, now: datetime, count: int = 3
    ) -> list[date]:
        """The first ``count`` bookable days after ``after_day``: what a refusal offers."""
        days: list[date] = []
        for day in self.bookable_days(service, after_day, now):
            days.append(day)
            if len(days) >= count:
                break
        return days

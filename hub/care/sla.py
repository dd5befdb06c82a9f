"""CARE deadlines in working days: Monday to Friday, Indonesian public holidays off.

A deadline of N working days runs to the end (WITA midnight) of the N-th working
day after the day the stage began, so a complaint received on a Friday afternoon
with a 3-day deadline is due at the end of Wednesday, and one received on Christmas
Eve is not due before the holidays are over. Which days count is configurable
(``care.working_days``, ``care.holiday_categories``, ``care.closures``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays


class WorkingDays:
    def __init__(
        self,
        timezone: ZoneInfo,
        weekdays: frozenset[int] = frozenset(range(5)),
        holiday_categories: tuple[str, ...] = ("public",),
        closures: frozenset[date] = frozenset(),
    ) -> None:
        self.timezone = timezone
        self.weekdays = weekdays
        self.closures = closures
        # Years are filled in on first lookup; this object belongs to this calendar only.
        self._holidays = holidays.country_holidays("ID", categories=holiday_categories)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.weekdays
            and day not in self.closures
            and (day not in self._holidays)
        )

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def deadline(self, start: datetime, working_days: int) -> datetime:
        """The end of the ``working_days``-th working day after ``start``'s WITA day."""
        if start.tzinfo is None:
            raise ValueError("use an aware datetime")
        day = start.astimezone(self.timezone).date()
        for _ in range(working_days):
            day = self.next_working_day(day)
        return datetime.combine(day + timedelta(days=1), time(0), self.timezone)

    def is_open(self, moment: datetime, opens: time, closes: time) -> bool:
        """Whether officers are at work at ``moment`` (a working day, within hours)."""
        local = moment.astimezone(self.timezone)
        return self.is_working_day(local.date()) and opens <= local.time() < closes

    def next_opening(self, moment: datetime, opens: time, closes: time) -> datetime:
        """When officers are next at work from ``moment`` on (``moment`` if they are)."""
        local = moment.astimezone(self.timezone)
        if self.is_open(local, opens, closes):
            return local
        day = local.date()
        if not (self.is_working_day(day) and local.time() < opens):
            day = self.next_working_day(day)
        return datetime.combine(day, opens, self.timezone)

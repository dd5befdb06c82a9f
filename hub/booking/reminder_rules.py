"""When a booking's reminders are due: rules only, no database and no clock of their own.

Two reminders per booking: the day before at a set WITA time (16:00) and a while
(an hour) before the session starts. A reminder whose moment passed while the hub
was down is still sent as long as it makes sense: the day-before one until the day
itself begins, the session one until the session starts. A booking made (or moved)
after a reminder's moment gets no such reminder: its confirmation is fresher.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class ReminderKind(enum.StrEnum):
    DAY_BEFORE = "day_before"
    BEFORE_SESSION = "before_session"


@dataclass(frozen=True, slots=True)
class ReminderRule:
    day_before_at: time
    before_session: timedelta
    timezone: ZoneInfo


@dataclass(frozen=True, slots=True)
class DueReminder:
    kind: ReminderKind
    due_at: datetime


def due_reminders(
    rule: ReminderRule, day: date, session_start: time, booked_at: datetime, now: datetime
) -> list[DueReminder]:
    """The reminders of a visit on ``day`` at ``session_start`` that should go at ``now``."""
    tz = rule.timezone
    starts = datetime.combine(day, session_start, tz)
    windows = (
        (
            ReminderKind.DAY_BEFORE,
            datetime.combine(day - timedelta(days=1), rule.day_before_at, tz),
            datetime.combine(day, time(0), tz),
        ),
        (ReminderKind.BEFORE_SESSION, starts - rule.before_session, starts),
    )
    return [
        DueReminder(kind, due_at)
        for kind, due_at, too_late in windows
        if booked_at < due_at <= now < too_late
    ]

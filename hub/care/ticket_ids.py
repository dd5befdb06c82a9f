"""CARE ticket ids: ``CARE-YYYYMMDD-NNNN``, the local date (server.timezone), a sequence per day.

The id is what a citizen types back ("cek tiket CARE-20261129-0042"), so it is
parsed leniently (case, spaces, dashes) and always printed the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

_PATTERN = re.compile(r"\bCARE[\s-]?(\d{4})(\d{2})(\d{2})[\s-]?(\d{1,4})\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True, order=True)
class TicketId:
    day: date
    sequence: int

    def __post_init__(self) -> None:
        if not 1 <= self.sequence <= 9999:
            raise ValueError("ticket sequence must be 1 to 9999")

    def __str__(self) -> str:
        return f"CARE-{self.day:%Y%m%d}-{self.sequence:04d}"


def ticket_day(moment: datetime, timezone: ZoneInfo) -> date:
    """The calendar day in ``timezone`` a ticket filed at ``moment`` (aware) belongs to."""
    if moment.tzinfo is None:
        raise ValueError("use an aware datetime")
    return moment.astimezone(timezone).date()


def find_ticket_ids(text: str) -> list[TicketId]:
    """Every well-formed ticket id in a citizen's message, in order."""
    found: list[TicketId] = []
    for match in _PATTERN.finditer(text):
        year, month, day, sequence = (int(g) for g in match.groups())
        try:
            found.append(TicketId(date(year, month, day), sequence))
        except ValueError:
            continue
    return found

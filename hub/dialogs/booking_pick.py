"""Which of a citizen's bookings a message names: by code, service, date, session or
queue number ("yang SIM aja dibatalin", "yg paspor dipindah", "cek antrean ktp", "yang
A-001"), so a citizen with several bookings is not asked "which one?" when they said.

Only a mention that still fits several bookings (two passport bookings, "yang paspor")
leaves a choice, and then only between those it fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from hub.booking import Booking


@dataclass(frozen=True, slots=True)
class Mention:
    """What a message says about which booking it means; empty when it names none."""

    services: tuple[str, ...] = ()
    day: date | None = None
    session: str | None = None
    text: str = ""
    """The message, searched for the queue numbers of the citizen's own bookings."""

    def __bool__(self) -> bool:
        return bool(self.services or self.day or self.session or self.text)


_QUEUE_LIKE = re.compile(r"(?<![\w-])[a-z](?:\s?-\s?\d{1,3}|0\d{1,2})(?![\w-])", re.IGNORECASE)


def names_queue_number(text: str) -> bool:
    """Whether ``text`` holds something written like a queue number ("A-001", "h-2")."""
    return _QUEUE_LIKE.search(text) is not None


def _queue_number_in(booking: Booking, text: str) -> bool:
    """ "A-001", "a-1", "A001": this booking's queue number written in ``text``."""
    prefix, _, number = booking.queue_label.partition("-")
    if not prefix or not number.isdigit():
        return False
    pattern = rf"(?<![\w-]){re.escape(prefix)}(?:\s?-\s?|0)0*{int(number)}(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def select(bookings: Sequence[Booking], mention: Mention) -> tuple[list[Booking], bool]:
    """The bookings ``mention`` fits and whether it named anything that fits none.

    Each named detail narrows the list; one that fits none of them is reported (the
    citizen named a booking they do not have) and the list is left as it was.
    """
    by_number = [b for b in bookings if mention.text and _queue_number_in(b, mention.text)]
    if by_number:
        return by_number, False
    chosen = list(bookings)
    unmatched = False
    for named, fits in (
        (bool(mention.services), lambda b: b.service_id in mention.services),
        (mention.day is not None, lambda b: b.day == mention.day),
        (mention.session is not None, lambda b: b.session == mention.session),
    ):
        if not named:
            continue
        narrowed = [b for b in chosen if fits(b)]
        if narrowed:
            chosen = narrowed
        else:
            unmatched = True
    return chosen, unmatched

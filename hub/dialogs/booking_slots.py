"""What one message says about a booking frame: services, date, time, code.

The booking flow is a frame of slots that any message may fill, in any order and
several at once. This module reads a message's entities into those slots the way a
person would: several services ("ktp sama kk"), a service taken back ("bukan paspor,
SKCK"), the last of two dates ("besok eh lusa"), and a bare weekday ("jumat aja")
read in the week under discussion rather than the nearest one. Then it writes them
into the flow's state and says which filled slots changed, so the reply can confirm
the change ("Tanggal diganti: ...") instead of silently overwriting it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.catalogue import Catalogue
from hub.config import BookingSession
from hub.dialogs.booking_times import session_at
from hub.nlu import dates
from hub.nlu.normalise import wordset
from hub.nlu.results import Entity, Parse

_WORD = re.compile(r"[^\W_]+|[,.;!?]")
_NEGATIONS = wordset(
    "bukan bkn bukn bukannya jangan jgn gak ga gk nggak ngga enggak engga tidak tdk "
    "not instead selain tanpa"
)
_ADDING = wordset("juga jg sekalian skalian sekaligus tambah tambahin nambah plus")
_CORRECTING = wordset(
    "salah slh keliru maksud maksudnya maksudku harusnya seharusnya mestinya ralat ganti "
    "gnti diganti ganti2 ubah ubahin rubah bukan bkn mistake meant wrong instead"
)
_LOOK_BACK = 3
"""Words before a value that may take it back: "bukan yg paspor", "gak jadi paspor"."""


@dataclass(frozen=True, slots=True)
class Said:
    """The booking slots one message names."""

    services: tuple[str, ...] = ()
    """Services asked for, in the order named."""
    dropped: tuple[str, ...] = ()
    """Services taken back ("bukan paspor")."""
    adding: bool = False
    """ "kk juga": the services join those already in the frame instead of replacing them."""
    correcting: bool = False
    """The message says something was wrong ("salah", "maksudnya", "bukan")."""
    day: date | None = None
    time: str | None = None
    """What the citizen said: a part of day ("pagi") or a clock time ("09:30")."""
    code: str | None = None

    @property
    def slots(self) -> bool:
        """Whether the message names any slot of the frame (a service, a date, a time)."""
        return bool(self.services or self.dropped or self.day or self.time)


def _negated(text: str, entity: Entity) -> bool:
    """True when one of the few words before the value takes it back; a comma ends the look."""
    if entity.start <= 0:
        return False
    words = _WORD.findall(text[: entity.start].lower())[-_LOOK_BACK:]
    for word in reversed(words):
        if word in ",.;!?":
            return False
        if word in _NEGATIONS:
            return True
    return False


def read(
    understanding: Parse,
    catalogue: Catalogue,
    today: date,
    about: date | None = None,
) -> Said:
    """The slots ``understanding`` names; ``about`` is the date under discussion, if any."""
    text = understanding.text
    services: list[str] = []
    dropped: list[str] = []
    day: date | None = None
    time: str | None = None
    code: str | None = None
    for entity in understanding.entities:
        negated = bool(text) and _negated(text, entity)
        if entity.type == "service" and catalogue.get(entity.value) is not None:
            target = dropped if negated else services
            if entity.value not in target:
                target.append(entity.value)
        elif entity.type == "date" and not negated:
            try:
                found = date.fromisoformat(entity.value)
            except ValueError:
                continue
            day = _in_discussed_week(entity.text, found, today, about)
        elif entity.type == "time" and not negated:
            time = entity.value
        elif entity.type == "booking_code" and code is None:
            code = entity.value
    words = set(_WORD.findall(text.lower()))
    return Said(
        services=tuple(s for s in services if s not in dropped),
        dropped=tuple(dropped),
        adding=bool(words & _ADDING),
        correcting=bool(words & _CORRECTING),
        day=day,
        time=time,
        code=code,
    )


def _in_discussed_week(span: str, found: date, today: date, about: date | None) -> date:
    """A bare weekday in the week of the date under discussion, when that is still ahead."""
    weekday = dates.bare_weekday(span) if about is not None else None
    if about is None or weekday is None:
        return found
    candidate = dates.in_week_of(weekday, about)
    return candidate if candidate > today else found


def services_of(flow: dict[str, Any]) -> list[str]:
    """The services a booking frame holds: the first under ``service``, more under ``also``."""
    first = flow.get("service")
    also = [str(s) for s in flow.get("also") or []]
    return ([str(first)] if first else []) + [s for s in also if s != first]


def set_services(flow: dict[str, Any], services: Sequence[str]) -> None:
    flow["service"] = services[0] if services else None
    flow["also"] = list(services[1:])


def fill(flow: dict[str, Any], said: Said, sessions: Sequence[BookingSession]) -> list[str]:
    """Write what the message says into the frame; returns the filled slots it changed
    ("service", "date", "session"), so the reply can confirm them."""
    changed: list[str] = []
    if flow.get("mode") == "book" and (said.services or said.dropped):
        before = services_of(flow)
        if said.services and said.adding:
            after = before + [s for s in said.services if s not in before]
        elif said.services:
            after = list(said.services)
        else:
            after = [s for s in before if s not in said.dropped]
        after = [s for s in after if s not in said.dropped]
        if after != before:
            set_services(flow, after)
            if before:
                changed.append("service")
    if said.day is not None:
        new = said.day.isoformat()
        if flow.get("date") and flow["date"] != new:
            changed.append("date")
        flow["date"] = new
        flow["about"] = new
    if said.time is not None:
        session = session_at(sessions, said.time)
        if flow.get("session") and session and flow["session"] != session:
            changed.append("session")
        flow["session"] = session
        flow["time"] = said.time
    return changed

"""What a complaint is about and how urgent it is, read from the citizen's own words.

A complaint is routed by its *object*: a facility of the mall (the air conditioning,
the toilets, the parking, the seats, the queue machine, the wifi), a counter
(loket), an officer, or a service of the catalogue. The dialog classifies the first
message before it asks anything, so a broken AC in the waiting room is never asked
"which service?". Bribery (pungli, uang pelicin, "dimintai 50rb biar cepat", calo)
is a report LAPOR! handles first: its tickets get :attr:`Priority.HIGH` and a
shorter deadline.

Plain word lists over lower-cased text, explicit and easy to extend; the domain
knows no NLU. Editing a list changes what is recognised, nothing else.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from hub.catalogue import Catalogue


class ObjectKind(enum.StrEnum):
    """What a complaint is about; stored on the ticket (``tickets.object``)."""

    FACILITY = "facility"
    COUNTER = "counter"
    OFFICER = "officer"
    SERVICE = "service"


class Priority(enum.StrEnum):
    """``high``: handled first with shorter deadlines (bribery); ``normal`` otherwise."""

    HIGH = "high"
    NORMAL = "normal"


FACILITIES: tuple[tuple[str, str], ...] = (
    # (the label a ticket's category gets, the words that name it)
    (
        "Akses disabilitas",
        r"kursi roda|wheel ?chair|\bramp\w*|jalur (?:difabel|disabilitas)|guiding block|"
        r"akses (?:difabel|disabilitas)|toilet (?:difabel|disabilitas)",
    ),
    ("AC", r"\bac\b|\ba\.c\.?|air ?con\w*|pendingin(?: ruangan)?|\bkipas(?: angin)?\b"),
    ("Toilet", r"toilet\w*|\bwc\b|kamar (?:mandi|kecil)|restroom|bathroom"),
    ("Parkir", r"parkir\w*|parking|car ?park"),
    ("Kursi", r"\bkursi\w*|tempat duduk|\bbangku\b|\bseats?\b|seating"),
    (
        "Mesin antrean",
        r"mesin (?:nomor |no |nomer )?(?:antri?an|tiket|nomor)|kios antri?an|"
        r"(?:layar|display) antri?an|queue (?:machine|kiosk|display)|ticket machine",
    ),
    ("Wi-Fi", r"wi-?fi\b|wifi\w*|\binternet\b|hotspot"),
    ("Lift", r"\blift\b|elevator|eskalator|escalator"),
)
"""The mall's facilities a citizen complains about, first match wins."""

_FACILITIES = tuple((label, re.compile(words)) for label, words in FACILITIES)

OFFICER_WORDS = re.compile(
    r"\b(?:petugas\w*|pegawai\w*|staf\w*|staff|karyawan\w*|satpam\w*|security|oknum|"
    r"officers?|employees?|\bcs\b|customer service|pelayan(?:nya)?\b|"
    r"mbak\w* (?:di )?loket|mas\w* (?:di )?loket|bapak\w* (?:di )?loket|ibu\w* (?:di )?loket)"
)
"""Words for the people behind the counters (and the mall's own staff)."""

COUNTER = re.compile(
    r"\b(?:loket|counter|meja|gerai|desk)\s*(?:no\.?\s*|nomor\s*|nomer\s*|number\s*)?"
    r"([a-z]?\d{1,2}[a-z]?)\b"
)
"""A counter by its number or code: "loket 3", "loket A2", "counter no. 5"."""

COUNTER_WORDS = re.compile(r"\b(?:loket\w*|counter|gerai)\b")
"""A counter named without its number ("loketnya tutup", "loket samsat")."""

BRIBERY = re.compile(
    r"pungli\w*|pungutan liar|uang pelicin|\bpelicin\b|\bsuap\w*|\bdisuap|menyuap|"
    r"sogok\w*|nyogok|\bcalo\w*|percaloan|uang (?:rokok|kopi|lelah|jasa|damai|terima ?kasih)|"
    r"(?:minta|meminta|dimintai|diminta|mintain|dipalak|malak|memalak)\w* (?:uang|duit|"
    r"imbalan|bayaran|tambahan|biaya tambahan|tip|\d+[\d.,]* ?(?:rb|ribu|k|jt|juta|rebu)\b|rp)|"
    r"\d+[\d.,]* ?(?:rb|ribu|k|rebu)\b(?: \w+)? (?:biar|supaya|agar|buat|untuk) "
    r"(?:cepat|cepet|lancar|didahulukan|diprioritaskan|dipercepat)|"
    r"bayar (?:lebih|tambahan|ekstra|extra)|\bbrib\w*|under the table|grease money|"
    r"asked (?:me )?for (?:money|cash|a tip)|extra (?:fee|payment|money) to"
)
"""Bribery and extortion (pungli), the reports LAPOR! gives high priority."""


@dataclass(frozen=True, slots=True)
class Classification:
    """What the words say a complaint is about; empty fields when they say nothing."""

    object: ObjectKind | None = None
    facility: str = ""
    """The facility's label ("AC") when one is named."""
    counter: str = ""
    """The counter's number or code ("3", "A2") when one is named."""
    officer: bool = False
    bribery: bool = False

    @property
    def priority(self) -> Priority:
        return Priority.HIGH if self.bribery else Priority.NORMAL


def _lowered(text: str) -> str:
    return " ".join(text.lower().split())


def facility_in(text: str) -> str:
    """The label of the first facility ``text`` names, or ""."""
    lowered = _lowered(text)
    return next((label for label, words in _FACILITIES if words.search(lowered)), "")


def counter_in(text: str) -> str:
    """The counter ``text`` names ("loket 3" -> "3", "loket a2" -> "A2"), or ""."""
    found = COUNTER.search(_lowered(text))
    return found.group(1).upper() if found else ""


def is_bribery(text: str) -> bool:
    return BRIBERY.search(_lowered(text)) is not None


def classify(text: str) -> Classification:
    """What ``text`` is about. An officer named wins (a complaint about the parking
    attendant is about a person), then a facility (an AC at counter 3 is about the
    AC), then a counter; a bribery report is about whoever asked for the money."""
    lowered = _lowered(text)
    facility = facility_in(lowered)
    counter = counter_in(lowered)
    officer = OFFICER_WORDS.search(lowered) is not None
    bribery = is_bribery(lowered)
    kind: ObjectKind | None = None
    if officer or bribery:
        kind = ObjectKind.OFFICER
    elif facility:
        kind = ObjectKind.FACILITY
    elif counter or COUNTER_WORDS.search(lowered):
        kind = ObjectKind.COUNTER
    return Classification(kind, facility, counter, officer, bribery)


def counter_agency(catalogue: Catalogue, text: str) -> str | None:
    """The agency whose counter ``text`` names, from the catalogue's counters
    ("di loket samsat" -> samsat, "gerai sim" -> polres); None when none or several
    agencies match. A numbered counter ("loket 3") names no agency: the catalogue
    knows counters by name only."""
    named = named_counter(catalogue, text)
    return named[0] if named else None


def named_counter(catalogue: Catalogue, text: str) -> tuple[str, str] | None:
    """The agency and the counter's words as written ("loket samsat"): the counter is
    also where it happened. None when no counter, or counters of several agencies."""
    lowered = _lowered(text)
    found: dict[str, str] = {}
    for service in catalogue.services.values():
        name = _lowered(service.counter.split("(")[0].split("+")[0])
        if len(name.split()) >= 2 and re.search(rf"\b{re.escape(name)}\b", lowered):
            found.setdefault(service.agency, name)
    return next(iter(found.items())) if len(found) == 1 else None

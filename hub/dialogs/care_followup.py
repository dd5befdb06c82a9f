"""Follow-ups on a citizen's own tickets: which one they mean, and asking to escalate.

A citizen with several tickets names one the way people do: "yang soal AC
gimana?", "yg keluhan loket 3", "tiket 0002", "yang paspor". :func:`pick_ticket`
scores each of *their* tickets against those words (the facility, the counter, the
service or agency, words of the story) and answers only when one stands out, so a
guess is never shown as an answer. :func:`asks_to_escalate` reads "tolong
dieskalasi", "kok lama banget, eskalasi dong", "please escalate".

State keys (plain JSON, read once by the next message CARE takes):
:data:`LISTED` the ticket ids of a list just shown, :data:`SHOWN` the ticket whose
status was just shown (what "eskalasi" refers to).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hub.care.classify import counter_in, facility_in
from hub.care.service import Ticket
from hub.catalogue import Catalogue
from hub.dialogs.care_words import FILLER, folded_text

LISTED = "care_listed"
SHOWN = "care_shown"

ESCALATE = re.compile(
    r"\b(?:di)?eskalasi\w*|\beskalasikan\b|\bescalat\w*|\bdinaikkan ke (?:atasan|pimpinan)\b"
)
STATUS_WORDS = re.compile(
    r"\b(?:gimana|gmn|bagaimana|kabar\w*|sampai mana|sampe mana|status\w*|progres\w*|"
    r"perkembangan\w*|sudah diproses|udah diproses|ditindaklanjuti|tindak ?lanjut\w*|"
    r"how is|what about|any news|update)\b"
)
"""A question about something already filed ("yang soal AC gimana?")."""

_SEQUENCE = re.compile(r"\b(?:tiket|ticket|no|nomor|care|c)[\s.:#-]*(?:no\.?\s*)?(\d{1,4})\b")
"""A ticket named by its day's number alone: "tiket 0002", "C-0002", "no 2"."""

_GENERIC_WORDS = """
    yang yg soal tentang keluhan komplain pengaduan laporan tiket gimana bagaimana sudah
    belum kabar status kok lama banget sekali dong tolong mohon itu ini saya aku kami apa
    sampai mana ada tidak masih karena jam tadi pagi siang sore kemarin di ke dari"""
_GENERIC = frozenset(_GENERIC_WORDS.split())


def asks_to_escalate(text: str) -> bool:
    return ESCALATE.search(text.lower()) is not None


def asks_about_a_ticket(text: str) -> bool:
    return STATUS_WORDS.search(text.lower()) is not None


def pick_ticket(
    text: str, tickets: Sequence[Ticket], catalogue: Catalogue, services: Sequence[str] = ()
) -> Ticket | None:
    """The one ticket of ``tickets`` the words name, or None (none, or no clear winner).

    ``services`` are the catalogue service ids the NLU found in the message."""
    if not tickets or not text.strip():
        return None
    lowered = " ".join(text.lower().split())
    number = _SEQUENCE.search(lowered)
    if number is not None:
        wanted = int(number.group(1))
        by_number = [t for t in tickets if t.ticket_id.endswith(f"-{wanted:04d}")]
        if len(by_number) == 1:
            return by_number[0]
    facility = facility_in(lowered)
    counter = counter_in(lowered)
    words = {w for w in folded_text(lowered).split() if len(w) >= 4 and w not in _GENERIC | FILLER}
    scored: list[tuple[int, Ticket]] = []
    for ticket in tickets:
        told = " ".join(
            (ticket.category, ticket.description, ticket.incident_where, ticket.incident_when)
        ).lower()
        score = 0
        if facility and facility_in(told) == facility:
            score += 3
        if counter and counter_in(told) == counter:
            score += 3
        if ticket.service_id and ticket.service_id in services:
            score += 3
        agency = catalogue.agencies.get(ticket.agency or "")
        if agency is not None and agency.short and agency.short.lower().split()[0] in lowered:
            score += 2
        told_words = set(folded_text(told).split())
        score += min(2, len(words & told_words))
        if score:
            scored.append((score, ticket))
    if not scored:
        return None
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]

"""Whether a citizen asks for a person (an officer, a supervisor) rather than the bot.

The NLU's ``talk_to_human`` intent covers most requests, but a short request for a
*supervisor* ("mana supervisornya", "saya mau bicara dengan atasan") reads like a
location or complaint question to it. A small explicit word list catches those, so
the citizen is handed over at once instead of answered by the bot. Only short
messages count for the bare words: in a longer text "atasan" is part of a story
("atasannya bilang besok"), and the NLU decides. An explicit demand by the citizen
("sy mau bicara sm atasan skrg", "I want to speak to a manager") counts at any length,
even at the end of an angry complaint.
"""

from __future__ import annotations

import re

from hub.nlu.normalise import normalise

PERSON_WORDS = (
    # Indonesian (folded: "sm" is "sama", "dgn" is "dengan")
    "atasan",
    "atasannya",
    "atasanmu",
    "supervisor",
    "supervisornya",
    "pimpinan",
    "pimpinannya",
    "kepala kantor",
    "manajer",
    "manajernya",
    "panggil petugas",
    "panggilkan petugas",
    "bicara dengan petugas",
    "bicara sama petugas",
    "bicara dengan orang",
    "bicara sama orang",
    "ngobrol sama orang",
    "ngobrol dengan orang",
    "mau ke petugas",
    "manusia",
    # English
    "manager",
    "a person",
    "a human",
    "real person",
    "a supervisor",
    "your supervisor",
    "your boss",
)
"""Whole words or phrases, matched on the folded text of a short message."""

MAX_WORDS = 8
"""Longer messages are left to the NLU: there the words may be part of a story."""

_PERSON = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in PERSON_WORDS) + r")\b")


_DEMAND = re.compile(
    r"(?:^|[.!?,;/] *|\b(?:saya|aku|gue|gua|tiang|kami) (?:\w+ )?)"
    r"(?:mau|ingin|minta|pengen|pingin|perlu|harus|tolong) (?:bisa )?"
    r"(?:bicara|ngomong|berbicara|ketemu|bertemu|disambungkan|dihubungkan|dihubungin|"
    r"dipertemukan|panggilkan|panggil)"
    r"(?: (?:dengan|sama|ke|kepada))? (?:atasan|kepala|supervisor|pimpinan|manajer|petugas|"
    r"orang|manusia|admin)\w*"
    r"|(?:^|[.!?,;] *|\bi |\bwe )(?:\w+ )?(?:want|need|demand) to (?:speak|talk) "
    r"(?:to|with) (?:a|the|your)? ?"
    r"(?:manager|supervisor|person|human|officer|boss|someone)\b"
)
"""An explicit demand to speak to someone, at any length: "sy mau bicara sm atasan
skrg jg" at the end of an angry story is a request, not part of the story."""


def demands_a_person(text: str) -> bool:
    """True when ``text``, however long, demands to speak to a person or a supervisor."""
    return _DEMAND.search(normalise(text)) is not None


def asks_for_a_person(text: str) -> bool:
    """True when a short ``text`` asks for an officer or a supervisor by name."""
    if demands_a_person(text):
        return True
    if not text.strip() or len(text.split()) > MAX_WORDS:
        return False
    return _PERSON.search(normalise(text)) is not None

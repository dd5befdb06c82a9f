"""The words that end a flow, and the small talk that never does.

Only an explicit cancel ends a booking or a complaint under way ("gajadi", "batal",
"batalin aja", "cancel", "stop", "udah ga usah"): a whole message of such words,
with the fillers citizens put around them ("deh", "aja", "kak"). "batalin booking
B-7Q4M2X" is more than a cancel word: outside a flow it is the ``cancel_booking``
intent, inside one the flow reads it.

Small talk ("ok", "sip", "👍", "makasih", "wkwk") is read here too, so the engine
can acknowledge it and ask the flow's question again instead of leaving the flow.
The lists are over the text as :func:`hub.dialogs.care_words.folded_text` folds
it ("gak jadi" is "tidak jadi", "aja" is "saja", "ok"/"sip" are "oke").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from hub.dialogs.care_words import folded_text

CANCEL = frozenset(
    {
        "batal",
        "batalin",
        "batalkan",
        "batalin saja",
        "batalkan saja",
        "tidak jadi",
        "gajadi",
        "gak jadi",
        "tidak jadi batal",
        "sudah tidak usah",
        "sudah tidak jadi",
        "tidak usah",
        "gausah",
        "tidak usah lanjut",
        "tidak lanjut",
        "cancel",
        "cancel it",
        "stop",
        "berhenti",
        "keluar",
        "never mind",
        "nevermind",
        "forget it",
        "ora sida",
    }
)
"""Whole messages (fillers stripped) that end the flow under way."""

CONFIRMING_CANCEL = frozenset(
    {
        "batalin",
        "batalkan",
        "batalin saja",
        "batalkan saja",
        "ya batalkan",
        "ya batalin",
        "iya batalkan",
        "iya batalin",
        "ya batalin saja",
        "ya batalkan saja",
        "iya batalin saja",
        "iya batalkan saja",
        "cancel it",
        "yes cancel",
        "yes cancel it",
    }
)
"""Cancel words that, asked "Batalkan antrean B-…?", answer yes: the citizen echoes the
question's verb ("batalin aja"). A bare "batal" is the Batal button: keep the booking."""

SOFT_CANCEL = frozenset({"tidak usah", "gausah"})
"""Cancel words that answer an optional question ("Ada foto?" "ga usah") instead."""

_FILLER_WORDS = """saja deh dong kak kakak ya yah aja sih nih lah dulu please pls mas mbak bu
    pak bli gek min admin ok oke sorry maaf eh ah wah hmm duh yaudah ntar nanti later"""
FILLERS = frozenset(_FILLER_WORDS.split())
"""Words around a cancel word that do not change it: "gajadi deh kak"."""

ACK = frozenset(
    {
        "oke",
        "okay",
        "okey",
        "okeh",
        "oke kakak",
        "oke siap",
        "oke deh",
        "siap",
        "siap kakak",
        "baik",
        "baiklah",
        "baik kakak",
        "mantap",
        "noted",
        "sure",
        "alright",
        "got it",
        "nggih",
        "ngiih",
        "y",
    }
)
THANKS = frozenset(
    {
        "makasih",
        "makasi",
        "makasih ya",
        "makasih kakak",
        "makasih banyak",
        "terima kasih",
        "terima kasih ya",
        "terima kasih kakak",
        "terima kasih banyak",
        "terimakasih",
        "trims",
        "tengkyu",
        "thanks",
        "thank you",
        "thanks a lot",
        "suksma",
        "matur suksma",
    }
)
_LAUGH = re.compile(r"^(?:(?:wk){2,}w?|(?:ha){2,}h?|(?:he){2,}h?|(?:hi){2,}h?|(?:xi){2,}|lol)$")

SmallTalk = Literal["ack", "thanks", "laugh", "emoji"]


def _core(text: str) -> str:
    """The folded text without the fillers at either end."""
    words = folded_text(text).split()
    while words and words[0] in FILLERS:
        words.pop(0)
    while words and words[-1] in FILLERS:
        words.pop()
    return " ".join(words)


LATER = frozenset({"lain kali", "kapan kapan", "next time", "besok besok", "another time"})
"""A clause that only puts it off ("eh gajadi deh, ntar aja"): it does not change a cancel."""


def cancels(text: str) -> bool:
    """Whether the whole message is an explicit cancel ("gajadi deh", "stop")."""
    core = _core(text)
    if core in CANCEL:
        return True
    clauses = [_core(c) for c in re.split(r"[,.;!?]+", text)]
    clauses = [c for c in clauses if c and c not in LATER]
    if len(clauses) == 1 and clauses[0] in CANCEL:
        return True  # "eh gajadi deh, ntar aja", "batal aja kak, lain kali"
    # "batal aja kak" keeps "batal"; "ga jadi ambil antrean" is a story, not a cancel.
    return folded_text(text) in CANCEL


def confirms_cancel(text: str) -> bool:
    """ "batalin aja" asked whether to cancel a booking: yes, cancel it."""
    return folded_text(text) in CONFIRMING_CANCEL or _core(text) in CONFIRMING_CANCEL


def soft_cancel(text: str) -> bool:
    """ "ga usah": a cancel word that may also skip an optional question."""
    return _core(text) in SOFT_CANCEL


def small_talk(text: str) -> SmallTalk | None:
    """What kind of small talk the whole message is, or None when it says something."""
    stripped = text.strip()
    if not stripped:
        return None
    if not any(ch.isalnum() for ch in stripped):
        # Only emoji and punctuation ("👍", "🙏🙏", "..."): nothing to answer.
        return "emoji" if any(unicodedata.category(ch) == "So" for ch in stripped) else "ack"
    folded = folded_text(stripped)
    if folded in ACK:
        return "ack"
    if folded in THANKS or _core(stripped) in THANKS:
        return "thanks"
    if folded and all(_LAUGH.match(word) for word in folded.split()):
        return "laugh"
    return None

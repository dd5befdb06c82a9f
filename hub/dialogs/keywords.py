"""A deliberately small keyword matcher: the spine's stand-in for real NLU.

It knows only what the first dialogs need (greeting, help/menu, thanks, bye)
and a rough language guess. Issue 4 replaces it with ``hub.nlu``; until then it
is honest about everything else by returning ``out_of_scope``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_WORD = re.compile(r"[a-zA-Z']+")

_GREET_ID = {
    "halo",
    "hallo",
    "hai",
    "hi",
    "hey",
    "helo",
    "pagi",
    "siang",
    "sore",
    "malam",
    "assalamualaikum",
    "salam",
    "permisi",
    "om",
    "swastiastu",
    "selamat",
}
_GREET_EN = {"hello", "hi", "hey", "morning", "afternoon", "evening", "greetings"}
_HELP_ID = {"menu", "bantuan", "fitur", "pilihan"}
_HELP_EN = {"help", "menu", "options", "start"}
_THANKS_ID = {"makasih", "terimakasih", "terima", "trims", "tq", "thx", "mksh", "suksma", "nuhun"}
_THANKS_EN = {"thanks", "thank", "thx", "ty", "cheers"}
_BYE_ID = {"dadah", "bye", "sampai", "jumpa", "daah"}
_BYE_EN = {"bye", "goodbye", "later"}

# Words that only appear in one of the two languages, for the language guess.
_EN_ONLY = {
    "hello",
    "good",
    "morning",
    "afternoon",
    "evening",
    "help",
    "please",
    "thanks",
    "thank",
    "you",
    "what",
    "how",
    "can",
    "i",
    "the",
    "is",
    "are",
    "do",
    "need",
    "want",
    "my",
    "queue",
    "complaint",
    "where",
    "when",
    "english",
    "options",
    "goodbye",
}
_ID_ONLY = {
    "halo",
    "selamat",
    "pagi",
    "siang",
    "sore",
    "malam",
    "tolong",
    "bantuan",
    "saya",
    "sy",
    "aku",
    "mau",
    "ingin",
    "bisa",
    "apa",
    "bagaimana",
    "gimana",
    "dimana",
    "kapan",
    "terima",
    "kasih",
    "makasih",
    "yang",
    "dan",
    "di",
    "ke",
    "dari",
    "ini",
    "itu",
    "gak",
    "ga",
    "tidak",
    "nggak",
    "bikin",
    "buat",
    "antri",
    "antrian",
    "pengaduan",
    "bahasa",
}


@dataclass(frozen=True, slots=True)
class Understanding:
    """What was understood of one message; the NLU issue keeps this shape."""

    intent: str
    confidence: float
    locale: str | None
    entities: dict[str, Any] = field(default_factory=dict)


def guess_language(text: str) -> str | None:
    """``en`` or ``id`` when the words say so clearly; None when they do not."""
    words = {w.lower() for w in _WORD.findall(text)}
    en, id_ = len(words & _EN_ONLY), len(words & _ID_ONLY)
    if en > id_:
        return "en"
    if id_ > en:
        return "id"
    return None


class KeywordMatcher:
    """Maps a message to greet / help / thanks / goodbye / out_of_scope by keywords."""

    def parse(self, text: str) -> Understanding:
        words = [w.lower() for w in _WORD.findall(text)]
        bag = set(words)
        locale = guess_language(text)
        if bag & (_HELP_ID | _HELP_EN) and len(words) <= 6:
            return Understanding("help", 0.9, locale)
        if bag & (_THANKS_ID | _THANKS_EN) or ("terima" in bag and "kasih" in bag):
            return Understanding("thanks", 0.9, locale)
        if bag & (_BYE_ID | _BYE_EN) and len(words) <= 5:
            return Understanding("goodbye", 0.9, locale)
        if bag & (_GREET_ID | _GREET_EN) and len(words) <= 6:
            return Understanding("greet", 0.9, locale)
        return Understanding("out_of_scope", 0.3, locale)

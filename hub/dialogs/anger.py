"""Whether a complaint is angry enough that an officer should answer it in person.

A small, explicit rule set rather than a model, so supervisors can read (and
argue with) exactly what sends a complaint to the officers. A text is angry when
any of these holds:

- it has one of :data:`STRONG_WORDS` (Indonesian or English, informal spellings
  folded first: "gak becus" is "tidak becus"): strong disappointment, insults,
  accusations of extortion or bribery;
- it has three exclamation marks in a row ("!!!");
- it is mostly capitals: at least :data:`SHOUT_MIN_LETTERS` letters, of which at
  least :data:`SHOUT_SHARE` are upper case ("PELAYANAN PARAH 2 JAM NUNGGU").

An angry complaint is filed as usual; the dialog then hands the conversation over.
"""

from __future__ import annotations

import re

from hub.nlu.normalise import normalise

STRONG_WORDS = (
    # Indonesian (after slang folding: "gak"/"ga"/"nggak" are "tidak", "bgt" is "banget")
    "marah",
    "kecewa berat",
    "sangat kecewa",
    "kecewa banget",
    "kecewa sekali",
    "parah banget",
    "parah sekali",
    "keterlaluan",
    "tidak becus",
    "kurang ajar",
    "pungli",
    "pungutan liar",
    "sogok",
    "suap",
    "peras",
    "memeras",
    "korupsi",
    "bangsat",
    "bajingan",
    "brengsek",
    "anjing",
    "goblok",
    "tolol",
    "bodoh",
    "sialan",
    "muak",
    # English
    "angry",
    "furious",
    "outrageous",
    "unacceptable",
    "disgusting",
    "useless",
    "bribe",
    "extortion",
    "corrupt",
    "scam",
    "fuck",
    "shit",
)
"""Whole words or phrases, matched on the folded text; each alone makes a text angry."""

SHOUT_MIN_LETTERS = 12
"""Shorter texts in capitals ("OK", "KTP EL") are not shouting."""

SHOUT_SHARE = 0.7
"""The share of upper-case letters from which a text counts as shouted."""

_STRONG = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in STRONG_WORDS) + r")\b")
_BANGS = re.compile(r"!{3,}")


def is_angry(text: str) -> bool:
    """True when ``text`` meets one of the rules in the module docstring."""
    if _BANGS.search(text):
        return True
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= SHOUT_MIN_LETTERS:
        upper = sum(1 for c in letters if c.isupper())
        if upper / len(letters) >= SHOUT_SHARE:
            return True
    return _STRONG.search(normalise(text)) is not None

"""Booking codes and queue labels: what a citizen reads out, types back or hears called.

A booking code is ``B-`` and six characters from an alphabet without 0/O and 1/I, so
it survives being read over the phone or copied from an SMS. It always holds a digit:
a citizen who types it without the dash ("b7q4m2x") is still recognised by
``hub.nlu.entities``, which takes an undashed code only when it has one (so that the
word "bersama" is never read as ``B-ERSAMA``).
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
PREFIX = "B-"
_DIGITS = frozenset("23456789")
_CODE = re.compile(rf"B[\s-]?([{ALPHABET}]{{{CODE_LENGTH}}})")


def new_code() -> str:
    """A fresh random code; uniform over every code that holds a digit."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if _DIGITS.intersection(body):
            return PREFIX + body


def normalise_code(text: str) -> str | None:
    """``"b 7q4m2x"``, ``"B7Q4M2X"`` or ``"B-7Q4M2X"`` -> ``"B-7Q4M2X"``; None if not a code."""
    match = _CODE.fullmatch(text.strip().upper())
    if match is None or not _DIGITS.intersection(match.group(1)):
        return None
    return PREFIX + match.group(1)


def queue_label(prefix: str, number: int) -> str:
    """``("A", 12)`` -> ``"A-012"``: what the counter's display calls."""
    return f"{prefix}-{number:03d}" if prefix else f"{number:03d}"

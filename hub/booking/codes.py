"""Booking codes and queue labels: what a citizen reads out, types back or hears called.

A booking code is ``B-`` and six characters from an alphabet without 0/O and 1/I, so
it survives being read over the phone or copied from an SMS. It always holds a digit:
a citizen who types it without the dash ("b7q4m2x") is still recognised by
``hub.nlu.entities``, which takes an undashed code only when it has one (so that the
word "bersama" is never read as ``B-ERSAMA``).

The booking confirmation carries a QR code of the code for check-in; ``qr_path`` is
where the hub draws it (``hub.web.media``), kept here so dialogs name it without aiohttp.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
PREFIX = "B-"
_DIGITS = frozenset("23456789")
_CODE = re.compile(rf"B[\s-]?([{ALPHABET}]{{{CODE_LENGTH}}})")
_EXACT = re.compile(rf"B-[{ALPHABET}]{{{CODE_LENGTH}}}")
QR_PATH_PREFIX = "/media/qr/"


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


def is_code(text: str) -> bool:
    """True only for a code exactly as ``new_code`` writes it: ``"B-7Q4M2X"``.

    Stricter than ``normalise_code``: a URL or a file name must not have two spellings.
    """
    return _EXACT.fullmatch(text) is not None and bool(_DIGITS.intersection(text[len(PREFIX) :]))


def qr_path(code: str) -> str:
    """The hub-relative URL of ``code``'s QR image; the renderer makes it absolute."""
    if not is_code(code):
        raise ValueError(f"not a booking code: {code!r}")
    return f"{QR_PATH_PREFIX}{code}.png"


def queue_label(prefix: str, number: int) -> str:
    """``("A", 12)`` -> ``"A-012"``: what the counter's display calls."""
    return f"{prefix}-{number:03d}" if prefix else f"{number:03d}"

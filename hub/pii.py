"""Finding and masking a citizen's NIK and phone numbers: one rule for every stored text.

A NIK (the 16-digit national ID) and a phone number are masked before any text is
stored, logged or audited; the one NIK the hub needs is kept apart, encrypted
(:mod:`hub.security.vault`). This module is a leaf (it imports nothing of hub), so channels,
the NLU, the store and the logging setup all use the same detector.

What is recognised:

* a NIK: 16 digits in one piece, or in groups of two or more digits joined by one
  and the same separator (space, dash or dot): ``5103011203900001``,
  ``5103 0112 0390 0001``, ``510301-120390-0001``, ``51.03.01.120390.0001``;
* a phone number: international with ``+`` (``+62 812-3456-7890``, ``+1 (415)
  555-0123``), Indonesian mobile without the plus (``6281234567890``), and national
  (``0812 3456 7890``, ``0812-3456-789``, ``(0361) 222333``).

* a near-NIK: a number of 12 to 20 digits but not 16, right after the word "NIK" (or
  "no KTP", "nomor induk kependudukan"): a NIK mistyped by a digit or two. It is as
  personal as the NIK itself, so it is masked too, keeping its length (the dialog tells
  the citizen "kurang 1 digit" from the mask alone, :func:`masked_lengths`).

What is not: booking codes (``B-US8NEL``), ticket ids (``CARE-20261130-0001``: 12
digits), dates, times, queue numbers and rupiah amounts (``Rp 1.500.000``). A
national number must open with three digits in one piece, so ``08-12-2026`` (a
date) is no phone, and a NIK's groups must share one separator, so two dates in a
row (``2026-12-03 2026-12-04``) are no NIK.

Masked forms: a NIK keeps its first and last four digits (``5103••••••••0001``), a
near-NIK its first four and a bullet per other digit (``5103•••••••••••``), a
phone its last four (``•••• 7890``, as the console shows addresses). Masking is
idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

BULLET = "•"
NIK_DIGITS = 16
NIK_SEPARATORS = frozenset(" .-")

_GROUP = re.compile(r"\d+")

# Phone numbers, one alternative per written form, 8-15 digits in all. The national form
# opens with three contiguous digits so that dates ("08-12-2026") and times do not match.
_PHONE = re.compile(
    r"""
    (?<!\d)
    (?:
        \+\d(?:[ .()\-]{0,2}\d){7,14}          # E.164, any country: +14155550123, +62 812-3456-7890
      | 62[ .\-]?8\d(?:[ .\-]?\d){7,10}       # Indonesian mobile without "+": 6281234567890
      | \(?0[2-9]\d(?:[ .()\-]{0,2}\d){6,10}  # national: 081234567890, 0812-3456-789, (0361) 222333
    )
    (?!\d)
    """,
    re.VERBOSE,
)

# Opaque tokens (Fernet ciphertext, provider file ids) in structured data: not prose.
_OPAQUE = re.compile(r"[A-Za-z0-9_\-=]{80,}")


@dataclass(frozen=True, slots=True)
class Found:
    """One NIK or phone number in a text: where, and its digits alone."""

    kind: Literal["nik", "near_nik", "phone"]
    start: int
    end: int
    digits: str


def find_niks(text: str) -> list[Found]:
    """Every NIK in ``text``, left to right, written in one piece or grouped."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(text)]
    found: list[Found] = []
    i = 0
    while i < len(groups):
        end = _nik_end(text, groups, i)
        if end is None:
            i += 1
            continue
        start, stop = groups[i][0], groups[end][1]
        if not (start > 0 and text[start - 1] == "+"):  # "+…": a phone number, found apart
            digits = "".join(text[s:e] for s, e in groups[i : end + 1])
            found.append(Found("nik", start, stop, digits))
        i = end + 1
    return found


def _nik_end(text: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """The last group of a NIK starting at group ``first``, or None."""
    total, separator = 0, ""
    for j in range(first, len(groups)):
        start, stop = groups[j]
        if j > first:
            between = text[groups[j - 1][1] : start]
            if between not in NIK_SEPARATORS or (separator and between != separator):
                return None
            separator = between
        size = stop - start
        if size < 2:
            return None
        total += size
        if total == NIK_DIGITS:
            return j
        if total > NIK_DIGITS:
            return None
    return None


NEAR_NIK_DIGITS = range(12, 21)
"""Digits of a number after the word "NIK" that is a mistyped NIK rather than something else."""

_NIK_WORD = re.compile(
    r"\b(?:nik|no\.?\s*ktp|nomor\s+ktp|nomor\s+induk(?:\s+kependudukan)?)(?:nya)?\b\s*"
    r"(?:(?:saya|sy|anak\s+saya|istri\s+saya|suami\s+saya)\s*)?[:=.]?\s*",
    re.IGNORECASE,
)
_NEAR_NIK = re.compile(r"\d+(?:([ .\-])\d+(?:\1\d+)*)?(?![\d•])")
_MASKED_NEAR_NIK = re.compile(rf"(?<![\d{BULLET}])\d{{4}}({BULLET}+)(\d{{4}})?(?![\d{BULLET}])")


def find_near_niks(text: str) -> list[Found]:
    """Numbers right after the word "NIK" that have one digit too few or too many, or a
    few (12-20 digits, not 16): a NIK typed wrong. Run on a text whose NIKs are masked."""
    found: list[Found] = []
    for word in _NIK_WORD.finditer(text):
        number = _NEAR_NIK.match(text, word.end())
        if number is None:
            continue
        digits = "".join(c for c in number.group() if c.isdigit())
        if len(digits) in NEAR_NIK_DIGITS and len(digits) != NIK_DIGITS:
            found.append(Found("near_nik", number.start(), number.end(), digits))
    return found


def mask_near_nik(digits: str) -> str:
    """``5103•••••••••••``: the first four digits and one bullet for each other digit, so
    the number of digits can still be told ("kurang 1 digit") and nothing else."""
    return digits[:4] + BULLET * (len(digits) - 4)


def masked_lengths(text: str) -> list[int]:
    """How many digits each masked NIK or near-NIK in ``text`` had, left to right."""
    return [4 + len(m.group(1)) + (4 if m.group(2) else 0) for m in _MASKED_NEAR_NIK.finditer(text)]


def find_phones(text: str) -> list[Found]:
    """Every phone number in ``text``, left to right (run on a text whose NIKs are masked)."""
    return [
        Found("phone", m.start(), m.end(), "".join(c for c in m.group() if c.isdigit()))
        for m in _PHONE.finditer(text)
    ]


def nik_values(text: str) -> list[str]:
    """The NIKs in ``text`` as 16 digits each, in order, without repeats."""
    return list(dict.fromkeys(f.digits for f in find_niks(text)))


def mask_nik(digits: str) -> str:
    """``5103••••••••0001``: enough to tell two NIKs apart, not to use one."""
    return f"{digits[:4]}{BULLET * 8}{digits[-4:]}"


NIK_UNREADABLE = BULLET * NIK_DIGITS
"""What is shown of a stored NIK that no configured key opens any more."""


def mask_phone(digits: str) -> str:
    """``•••• 7890``: the last four digits, as the console shows a citizen's address."""
    return f"{BULLET * 4} {digits[-4:]}"


Replace = Callable[[str], str]


def mask(
    text: str,
    *,
    nik: Replace = mask_nik,
    phone: Replace = mask_phone,
    near_nik: Replace = mask_near_nik,
) -> str:
    """``text`` with every NIK, near-NIK and phone number replaced (each replacement
    gets the digits)."""
    if not text or not any(c.isdigit() for c in text):
        return text
    text = _replace(text, find_niks(text), nik)
    text = _replace(text, find_near_niks(text), near_nik)
    return _replace(text, find_phones(text), phone)


def _replace(text: str, found: list[Found], how: Replace) -> str:
    for item in reversed(found):
        text = text[: item.start] + how(item.digits) + text[item.end :]
    return text


def has_personal_number(text: str) -> bool:
    """Whether ``text`` holds a NIK or a phone number in clear."""
    return mask(text) != text


def mask_json(value: Any, *, nik: Replace = mask_nik, phone: Replace = mask_phone) -> Any:
    """``value`` (JSON-like) with every string masked, keys too, at any depth.

    A large integer that reads as a phone number or NIK becomes its masked string.
    A long opaque token (ciphertext, a provider's file id) is left as it is: it is
    not prose, and masking digits inside it would break it.
    """
    if isinstance(value, str):
        if _OPAQUE.fullmatch(value):
            return value
        return mask(value, nik=nik, phone=phone)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = mask(text, nik=nik, phone=phone)
        return value if masked == text else masked
    if isinstance(value, Mapping):
        return {
            mask(str(k), nik=nik, phone=phone): mask_json(v, nik=nik, phone=phone)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_json(v, nik=nik, phone=phone) for v in value]
    return value

"""Is this a plausible NIK? The checks a counter would make at a glance, with the reason.

A NIK (Nomor Induk Kependudukan) is 16 digits: ``PP RR DD DDMMYY SSSS``, the
province, regency (kabupaten/kota) and district (kecamatan) codes of the place of
registration, the birth date (a woman's day plus 40) and a serial number. Only the
structure can be checked without Dukcapil's register: a NIK that passes may still
not exist, but one that fails is surely mistyped, and the citizen is told which part
(a digit missing, a province that does not exist, a birth date that cannot be) so
the correction is quick.

Pure: no I/O, no logging. The NIK is in clear here only while it is being checked;
the caller keeps it encrypted (:mod:`hub.security.vault`) and shows it masked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from hub.pii import NIK_DIGITS, NIK_SEPARATORS

PROVINCES = frozenset(
    {
        # Sumatra
        11, 12, 13, 14, 15, 16, 17, 18, 19, 21,
        # Java
        31, 32, 33, 34, 35, 36,
        # Bali and Nusa Tenggara
        51, 52, 53,
        # Kalimantan
        61, 62, 63, 64, 65,
        # Sulawesi
        71, 72, 73, 74, 75, 76,
        # Maluku
        81, 82,
        # Papua: 91 and 92 before 2022, 93-96 for the provinces made that year
        # (Permendagri 100.1.1-6117/2022); 94 was Papua's code before as well.
        91, 92, 93, 94, 95, 96,
    }
)  # fmt: skip
"""Province codes of Kemendagri's regional code list (kode wilayah)."""

WOMAN_DAY_OFFSET = 40
"""A woman's NIK carries her day of birth plus 40 (a 12th is written 52)."""

OLDEST_AGE = 120
"""A birth date longer ago than this is not a living applicant's."""


class Problem(enum.StrEnum):
    """What is wrong with a would-be NIK; the templates word each one."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NOT_DIGITS = "not_digits"
    PROVINCE = "province"
    REGENCY = "regency"
    DISTRICT = "district"
    BIRTH_DATE = "birth_date"
    SERIAL = "serial"


@dataclass(frozen=True, slots=True)
class NikCheck:
    """The verdict on one NIK: ``problem`` None when it is plausible.

    ``count`` is how many digits are missing or too many (for the length problems);
    ``birth`` is the birth date read from a plausible NIK (a child's booking, an age).
    """

    problem: Problem | None = None
    count: int = 0
    birth: date | None = None
    woman: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_length(length: int) -> NikCheck:
    """The verdict when only the number of digits is known (a NIK seen masked)."""
    if length < NIK_DIGITS:
        return NikCheck(Problem.TOO_SHORT, NIK_DIGITS - length)
    if length > NIK_DIGITS:
        return NikCheck(Problem.TOO_LONG, length - NIK_DIGITS)
    return NikCheck()


def check_nik(nik: str, today: date) -> NikCheck:
    """Whether ``nik`` (digits, spaces, dots or dashes between them allowed) is plausible."""
    digits = "".join(c for c in nik if c not in NIK_SEPARATORS)
    if not digits.isascii() or not digits.isdigit():
        return NikCheck(Problem.NOT_DIGITS)
    by_length = check_length(len(digits))
    if not by_length.ok:
        return by_length
    if int(digits[0:2]) not in PROVINCES:
        return NikCheck(Problem.PROVINCE)
    if digits[2:4] == "00":
        return NikCheck(Problem.REGENCY)
    if digits[4:6] == "00":
        return NikCheck(Problem.DISTRICT)
    woman, birth = _birth_date(digits[6:12], today)
    if birth is None:
        return NikCheck(Problem.BIRTH_DATE)
    if digits[12:16] == "0000":
        return NikCheck(Problem.SERIAL)
    return NikCheck(birth=birth, woman=woman)


def _birth_date(ddmmyy: str, today: date) -> tuple[bool, date | None]:
    """The birth date of ``DDMMYY`` (a woman's day + 40), in the latest century that puts
    it no later than today; None when no calendar has such a day or it is implausibly old."""
    day, month, year = int(ddmmyy[0:2]), int(ddmmyy[2:4]), int(ddmmyy[4:6])
    woman = day > WOMAN_DAY_OFFSET
    if woman:
        day -= WOMAN_DAY_OFFSET
    century = today.year - today.year % 100
    for full_year in (century + year, century - 100 + year):
        try:
            born = date(full_year, month, day)
        except ValueError:
            continue
        if born <= today:
            if today.year - born.year > OLDEST_AGE:
                return woman, None
            return woman, born
    return woman, None

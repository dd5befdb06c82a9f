"""Dates and times as citizens write them, resolved against a WITA ``today``.

Small rules of our own cover the common words ("besok", "senin dpn", "tgl 5", "5/12",
"5 des", "jam 2 siang"): they are exact and take microseconds. ``dateparser`` is
slow (0.3-1 ms a call, far more on its first call per language) and resolves some
spans against our conventions ("30 november" said on 30 November is next year for
it), so it only resolves the relative spans "in two weeks" / "dalam 3 hari" that our
regexes found, never a whole message.

Conventions (the dialogs and the tests rely on them):

- a bare weekday ("senin", "hari jumat", "on friday") is its next occurrence after
  today, never today; "senin ini" / "this monday" may be today;
- "<weekday> depan", "next <weekday>", "<weekday> minggu depan" is that weekday in
  the Monday-to-Sunday week after the one tomorrow falls in: said on Saturday
  2026-11-28 "senin depan" is 11-30, said on Sunday 11-29 it is 12-07 (tomorrow
  would be "besok"), said on Monday 11-30 it is 12-07;
- "minggu depan" / "next week" alone is today + 7 days (the same weekday next week);
- "minggu" is Sunday only as "hari minggu", "minggu pagi/siang/sore/malam" or "ahad":
  "3 minggu" is a duration, not a date;
- the past, for complaints: "minggu lalu" / "last week" is today - 7 days, "bulan lalu"
  / "last month" the same day a month ago, "senin kemarin" / "senin lalu" / "last
  monday" the latest Monday before today;
- "tgl 5" is the next 5th: this month unless it is past, else the next month that has it;
- day and month without a year ("5/12", "5 Desember", "December 5") is this year's
  date unless it is past, else next year's; numbers are day/month (Indonesian order);
- "jam 2" without a part of day means 14:00 for hours 1-5 (the mall is open 08-15);
- "after lunch", "habis makan siang" is the afternoon ("sore", from 13:00).

A dialog that has a date under discussion may read a bare weekday against that date's
week instead of today's (:func:`bare_weekday` tells which spans are bare weekdays).
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType

import dateparser

from hub.nlu.normalise import wordset
from hub.nlu.results import Entity

_MONTH_NAMES = (
    "januari january jan",
    "februari pebruari february feb peb",
    "maret march mar mrt",
    "april apr",
    "mei may",
    "juni june jun",
    "juli july jul",
    "agustus august agu agt ags agst agus aug",
    "september sept sep",
    "oktober october okt oct",
    "november nopember nov nop",
    "desember december des dec",
)
_MONTHS: Mapping[str, int] = MappingProxyType(
    {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
)
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_WEEKDAY_NAMES = (
    "senin snin monday",
    "selasa slasa tuesday",
    "rabu wednesday",
    "kamis kemis thursday",
    "jumat jum'at jum’at jumaat jmt friday",
    "sabtu saptu saturday",
    "minggu ahad sunday",
)
_WEEKDAYS: Mapping[str, int] = MappingProxyType(
    {name: number for number, names in enumerate(_WEEKDAY_NAMES) for name in names.split()}
)
_WEEKDAY = "(?:" + "|".join(sorted((re.escape(n) for n in _WEEKDAYS), key=len, reverse=True)) + ")"

_RELATIVE_DAYS: Mapping[str, int] = MappingProxyType(
    {
        "hari ini": 0,
        "hr ini": 0,
        "hri ini": 0,
        "today": 0,
        "besok": 1,
        "bsk": 1,
        "besuk": 1,
        "bsok": 1,
        "besog": 1,
        "esok": 1,
        "tomorrow": 1,
        "tomorow": 1,
        "tmrw": 1,
        "tmr": 1,
        "buin mani": 1,  # Balinese: "again tomorrow"
        "bin mani": 1,
        "lusa": 2,
        "buin puan": 2,  # Balinese: the day after tomorrow
        "besok lusa": 2,
        "day after tomorrow": 2,
        "the day after tomorrow": 2,
        "kemarin": -1,
        "kemaren": -1,
        "kmrn": -1,
        "kmarin": -1,
        "yesterday": -1,
        "kemarin lusa": -2,
    }
)
_NUMBER_WORDS: Mapping[str, int] = MappingProxyType(
    {
        "se": 1,
        "satu": 1,
        "dua": 2,
        "tiga": 3,
        "empat": 4,
        "lima": 5,
        "enam": 6,
        "tujuh": 7,
    }
)
_NEXT = r"(?:depan|dpn|dpan|dep)"

_F = re.IGNORECASE
_RELATIVE_RE = re.compile(
    r"\b(?:"
    + "|".join(sorted((k.replace(" ", r"\s+") for k in _RELATIVE_DAYS), key=len, reverse=True))
    + r")\b",
    _F,
)
_NEXT_WEEK_RE = re.compile(rf"\b(?:(?:minggu|pekan|mgg)\s+{_NEXT}|next\s+week)\b", _F)
_LAST_RE = re.compile(
    r"\b(?:(?P<week>(?:minggu|pekan|mgg)\s+(?:lalu|kemarin|kmrn|kemaren)|last\s+week)"
    r"|(?P<month>bulan\s+(?:lalu|kemarin|kmrn|kemaren)|last\s+month))\b",
    _F,
)
_COUNT_BEFORE = re.compile(r"(?:\d|\b(?:se|satu|dua|tiga|empat|lima|enam|tujuh|beberapa))\s*$", _F)
"""A count before "minggu lalu" ("3 minggu lalu") makes it a duration back, not last week."""
_LAST_WEEKDAY_RE = re.compile(
    rf"\b(?:(?P<day>{_WEEKDAY})\s+(?:lalu|kemarin|kmrn|kemaren)"
    rf"|last\s+(?P<eday>{_WEEKDAY}))\b",
    _F,
)
_WEEKDAY_RE = re.compile(
    rf"\b(?:(?P<pre>next|this|coming|this\s+coming|on|hari|hr|hri)\s+)?(?P<day>{_WEEKDAY})"
    rf"(?:\s+(?P<post>(?:(?:minggu|pekan)\s+)?{_NEXT}|ini|next\s+week|pagi|siang|sore|malam))?\b",
    _F,
)
_TGL = r"(?:(?:tgl|tanggal|tggl|tgal|tg)\.?\s*)"
_TGL_DAY_RE = re.compile(rf"\b{_TGL}(?P<day>\d{{1,2}})(?![\d/:.-])", _F)
_NUMERIC_RE = re.compile(
    rf"(?<![\w/.-]){_TGL}?(?P<day>\d{{1,2}})\s?(?P<sep>[/-])\s?(?P<month>\d{{1,2}})"
    r"(?:(?P=sep)(?P<year>\d{4}|\d{2}))?(?![\w/-]|[.,:]\d)",
    _F,
)
_ISO_RE = re.compile(r"(?<![\w/.-])(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?![\w/-])")
_DAY_MONTH_RE = re.compile(
    rf"(?<![\w/.-]){_TGL}?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+|-\s*)?"
    rf"(?P<month>{_MONTH})\b\.?(?:\s*[,-]?\s*(?P<year>\d{{4}}))?(?!\d)",
    _F,
)
_MONTH_DAY_RE = re.compile(
    rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
    r"(?:\s*,?\s*(?P<year>\d{4}))?(?![\d:.])",
    _F,
)
_COUNT = r"(?:\d{1,2}|se|satu|dua|tiga|empat|lima|enam|tujuh)\s*(?:hari|minggu|pekan)"
_OFFSET_RE = re.compile(
    rf"\b(?:{_COUNT}\s+(?:lagi|kedepan|ke\s+depan|kemudian)|(?:dalam|dlm)\s+{_COUNT})\b", _F
)
_COUNT_RE = re.compile(
    r"(?P<n>\d{1,2}|se|satu|dua|tiga|empat|lima|enam|tujuh)\s*(?P<unit>hari|minggu|pekan)", _F
)
# English offsets: dateparser reads its number words ("in two weeks", "3 days from now").
_DATEPARSER_RE = re.compile(
    r"\b(?:in\s+(?:\d{1,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
    r"\s+(?:days?|weeks?)"
    r"|(?:\d{1,2}|an?|one|two|three|four|five|six|seven)\s+(?:days?|weeks?)\s+from\s+now)\b",
    _F,
)

_PARTS_OF_DAY: Mapping[str, str] = MappingProxyType(
    {
        "pagi": "pagi",
        "morning": "pagi",
        "siang": "siang",
        "noon": "siang",
        "midday": "siang",
        # The English wording calls the "sore" session (13:00-15:00) the afternoon one.
        "afternoon": "sore",
        "sore": "sore",
        "evening": "sore",
        "malam": "malam",
        "mlm": "malam",
        # Balinese: semeng (morning), tengai (midday), sanja (late afternoon).
        "semeng": "pagi",
        "tengai": "siang",
        "sanja": "sore",
        "night": "malam",
        "tonight": "malam",
    }
)
_PART = "(?:" + "|".join(_PARTS_OF_DAY) + ")"
# After the midday break: longer than "siang" in "habis makan siang", so it wins the overlap.
_AFTER_LUNCH_RE = re.compile(
    r"\b(?:(?:after|post)\s+lunch(?:\s*time)?"
    r"|(?:habis|abis|hbs|setelah|stlh|sehabis|sesudah|selesai|ba'?da)\s+"
    r"(?:makan\s+siang|mkn\s+siang|istirahat(?:\s+siang)?|ishoma|jam\s+istirahat|dzuhur|zuhur|lohor))\b",
    _F,
)
_CLOCK_RE = re.compile(
    r"\b(?:(?:jam|jm|pukul|pkl|at|around|sekitar)\.?\s*)"
    r"(?P<hour>\d{1,2})(?:\s*[.:]\s*(?P<minute>\d{2}))?(?:-?an\b)?"
    r"(?:\s*(?P<ampm>[ap]\.?m\b\.?))?"
    rf"(?:\s+(?:(?:in\s+the|di)\s+)?(?P<part>{_PART}))?(?![\d/])",
    _F,
)
# "10:30", "10.30 wita", "9 am", "2.30pm": a clock time without "jam" needs a colon, WITA or am/pm.
_BARE_CLOCK_RE = re.compile(
    r"(?<![\w.:/,])(?P<hour>\d{1,2})"
    r"(?::(?P<minute>\d{2})|\.(?P<minute2>\d{2})(?=\s*(?:wita\b|[ap]\.?m\b)))?"
    r"(?:\s*(?P<ampm>[ap]\.?m\b\.?))?(?:\s*wita\b)?"
    rf"(?:\s+(?:(?:in\s+the|di)\s+)?(?P<part>{_PART}))?(?![\d/:])",
    _F,
)
_PART_RE = re.compile(rf"\b(?:(?:in\s+the|this|di)\s+)?(?P<part>{_PART})\b", _F)
_GREETING_BEFORE = re.compile(r"\b(?:selamat|slamat|slmt|met|good|rahajeng)\s*$", _F)
_HONORIFICS = wordset(
    "kak kakak ka min admin mimin pak bapak bu ibu mas mbak mba bli gus dik dek om tante sir "
    "semua all everyone juga"
)
_WORDS = re.compile(r"[^\W_]+")
_DURATION_AFTER = re.compile(r"\s*(?:menit|mnt|min\b|minutes?|jam|hours?)", _F)


def _entity(kind: str, value: str, text: str, start: int, end: int) -> Entity:
    return Entity(kind, value, text[start:end], start, end)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _next_day_of_month(today: date, day: int) -> date | None:
    """The next ``day``-th from today on: this month unless past, else the next month with it."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        if day <= monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _day_month(today: date, day: int, month: int, year: str | None) -> date | None:
    """Day and month, the year given or the next one that is not past."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        try:
            return date(full, month, day)
        except ValueError:
            return None
    for full in range(today.year, today.year + 5):
        try:
            candidate = date(full, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _weekday(today: date, weekday: int, pre: str, post: str) -> date:
    if post.endswith(("depan", "dpn", "dpan", "dep", "week")) or pre == "next":
        # The Monday-Sunday week after the one tomorrow is in: on a Sunday "senin depan"
        # is not tomorrow (that would be "besok"), on a Saturday it is the coming Monday.
        tomorrow = today + timedelta(days=1)
        monday_next_week = tomorrow + timedelta(days=7 - tomorrow.weekday())
        return monday_next_week + timedelta(days=weekday)
    ahead = (weekday - today.weekday()) % 7
    if post == "ini" or pre.startswith("this"):
        return today + timedelta(days=ahead)
    return today + timedelta(days=ahead or 7)


def _via_dateparser(span: str, today: date) -> date | None:
    settings = {
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
    }
    found = dateparser.parse(span, languages=["id", "en"], settings=settings)
    if found is None:
        return None
    result = found.date()
    return result if today < result <= today + timedelta(days=400) else None


def warm_up() -> None:
    """Load dateparser's language data now, not during a citizen's first message."""
    _via_dateparser("in 2 days", date(2026, 1, 1))
    _via_dateparser("dalam 2 hari", date(2026, 1, 1))


def find_dates(text: str, today: date) -> Iterator[Entity]:
    """Every date-like span with its resolved ISO date; may overlap (the caller picks)."""
    for match in _RELATIVE_RE.finditer(text):
        key = " ".join(match.group(0).lower().split())
        result = today + timedelta(days=_RELATIVE_DAYS[key])
        yield _entity("date", result.isoformat(), text, match.start(), match.end())
    for match in _NEXT_WEEK_RE.finditer(text):
        result = today + timedelta(days=7)
        yield _entity("date", result.isoformat(), text, match.start(), match.end())
    for match in _LAST_RE.finditer(text):
        if _COUNT_BEFORE.search(text, 0, match.start()):
            continue
        result = _add_months(today, -1) if match.group("month") else today - timedelta(days=7)
        yield _entity("date", result.isoformat(), text, match.start(), match.end())
    for match in _LAST_WEEKDAY_RE.finditer(text):
        if (match.group("day") or "").lower() == "minggu":
            continue  # "minggu lalu" is last week (above), not last Sunday
        weekday = _WEEKDAYS[(match.group("day") or match.group("eday")).lower()]
        result = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)
        yield _entity("date", result.isoformat(), text, match.start(), match.end())
    for match in _WEEKDAY_RE.finditer(text):
        day = match.group("day").lower()
        pre = " ".join((match.group("pre") or "").lower().split())
        post = " ".join((match.group("post") or "").lower().split())
        start, end = match.start(), match.end()
        if pre == "on":  # "on friday": the date is "friday"
            start = match.start("day")
        if post in _PARTS_OF_DAY:  # "jumat pagi": the part of day is a time entity
            end = match.end("day")
        if day == "minggu" and pre not in ("hari", "hr", "hri") and post not in _PARTS_OF_DAY:
            continue  # "3 minggu", "minggu depan": a duration or a week, not Sunday
        result = _weekday(today, _WEEKDAYS[day], pre, post if end == match.end() else "")
        yield _entity("date", result.isoformat(), text, start, end)
    for match in _TGL_DAY_RE.finditer(text):
        found = _next_day_of_month(today, int(match.group("day")))
        if found is not None:
            yield _entity("date", found.isoformat(), text, match.start(), match.end())
    for regex in (_NUMERIC_RE, _ISO_RE):
        for match in regex.finditer(text):
            month = int(match.group("month"))
            found = _day_month(today, int(match.group("day")), month, match.group("year"))
            if found is not None:
                yield _entity("date", found.isoformat(), text, match.start(), match.end())
    for regex in (_DAY_MONTH_RE, _MONTH_DAY_RE):
        for match in regex.finditer(text):
            month = _MONTHS[match.group("month").lower()]
            found = _day_month(today, int(match.group("day")), month, match.group("year"))
            if found is not None:
                yield _entity("date", found.isoformat(), text, match.start(), match.end())
    for match in _OFFSET_RE.finditer(text):
        count_match = _COUNT_RE.search(match.group(0))
        if count_match is None:  # pragma: no cover - _OFFSET_RE contains _COUNT
            continue
        raw = count_match.group("n").lower()
        count = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        days = count * (1 if count_match.group("unit").lower() == "hari" else 7)
        result = today + timedelta(days=days)
        yield _entity("date", result.isoformat(), text, match.start(), match.end())
    for match in _DATEPARSER_RE.finditer(text):
        found = _via_dateparser(match.group(0), today)
        if found is not None:
            yield _entity("date", found.isoformat(), text, match.start(), match.end())


def _clock(hour: int, minute: int, ampm: str, part: str) -> str | None:
    if minute > 59 or hour > 24:
        return None
    if ampm:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    elif (part == "siang" and 1 <= hour <= 5) or (part in ("sore", "malam") and 1 <= hour <= 11):
        hour += 12
    elif part == "malam" and hour == 12:
        hour = 0
    elif not part and 1 <= hour <= 5:
        hour += 12  # "jam 2": an afternoon hour while the mall is open
    if hour == 24:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


def _is_greeting(text: str, start: int, end: int) -> bool:
    """ "selamat pagi", "pagi kak, mau tanya": a greeting, not a time."""
    if _GREETING_BEFORE.search(text[:start]):
        return True
    if _WORDS.search(text[:start]):
        return False
    after = _WORDS.search(text, end)
    return after is not None and after.group(0).lower() in _HONORIFICS


def find_times(text: str) -> Iterator[Entity]:
    """Clock times (``HH:MM``) and parts of day; may overlap (the caller picks)."""
    for regex in (_CLOCK_RE, _BARE_CLOCK_RE):
        for match in regex.finditer(text):
            groups = match.groupdict()
            minute = groups["minute"] or groups.get("minute2")
            ampm = (groups["ampm"] or "")[:1].lower()
            if regex is _BARE_CLOCK_RE and not (minute or ampm):
                continue  # a bare number is not a time
            if not minute and _DURATION_AFTER.match(text, match.end("hour")):
                continue  # "1 jam 15 menit" is a duration
            part = _PARTS_OF_DAY.get((match.group("part") or "").lower(), "")
            value = _clock(int(match.group("hour")), int(minute or 0), ampm, part)
            if value is not None:
                yield _entity("time", value, text, match.start(), match.end())
    for match in _AFTER_LUNCH_RE.finditer(text):
        yield _entity("time", "sore", text, match.start(), match.end())
    for match in _PART_RE.finditer(text):
        if _is_greeting(text, match.start(), match.end()):
            continue
        value = _PARTS_OF_DAY[match.group("part").lower()]
        yield _entity("time", value, text, match.start(), match.end())


def bare_weekday(span: str) -> int | None:
    """The weekday (Monday = 0) of a span that names only a weekday ("jumat", "hari kamis",
    "on friday"), else None: "jumat depan", "jumat ini", "tgl 4" say which week themselves."""
    match = _WEEKDAY_RE.fullmatch(span.strip())
    if match is None or match.group("post"):
        return None
    pre = " ".join((match.group("pre") or "").lower().split())
    if pre not in ("", "on", "hari", "hr", "hri"):
        return None
    return _WEEKDAYS[match.group("day").lower()]


def in_week_of(weekday: int, anchor: date) -> date:
    """``weekday`` in the Monday-to-Sunday week of ``anchor``: "jumat" while 10 December
    is under discussion is 11 December, not the nearest Friday."""
    return anchor - timedelta(days=anchor.weekday()) + timedelta(days=weekday)

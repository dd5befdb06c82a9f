"""Finding the details of a message: service, date, time, ticket id, booking code, NIK, phone.

Every engine (built-in or Rasa) runs this extractor, so values are normalised the
same way whatever classified the intent: catalogue ids, ISO dates in WITA, E.164
numbers. It is on the path of every message, so all the work that can be done once
(synonym index, compiled patterns) is done in the constructor; a typical message
costs a few tens of microseconds.

The catalogue comes in as a plain mapping (service id -> names and synonyms): the
design lets ``hub.nlu`` import only ``hub.model`` (and the leaf ``hub.pii``, the one
NIK and phone detector), so it never reads services.yaml itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import phonenumbers
from rapidfuzz import fuzz, process

from hub import pii
from hub.nlu import dates
from hub.nlu.normalise import wordset
from hub.nlu.results import Entity

_TOKEN = re.compile(r"[^\W_]+")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_ENCLITICS = ("nya", "ku", "mu", "ne")
"""Indonesian -nya/-ku/-mu and Balinese -ne ("ktpne", "kk-ne" splits by itself)."""
FUZZY_CUTOFF = 88.0
"""rapidfuzz ``ratio`` a typo needs to count as a synonym (one letter off in a word of 8)."""
_FUZZY_MIN_CHARS = 5
_FUZZY_MAX_TOKENS = 4
_SHORT_TOKEN = 4
"""Tokens shorter than this ("kk", "sim", "ktp") are matched exactly, never fuzzily."""

# A replacement needs a cue near the generic word: "ktp hilang", "ganti ktp", "ktp sy rusak".
_REPLACEMENT_WORDS = wordset(
    "hilang ilang kehilangan hilangnya rusak rusaknya patah robek sobek pudar luntur ganti "
    "gnti diganti pengganti penggantian perubahan ubah rubah berubah salah cetak ulang "
    "dicuri kecurian lost damaged broken stolen replace replacement"
)
DEFAULT_REPLACEMENT_CUES: Mapping[str, tuple[str, frozenset[str]]] = MappingProxyType(
    {"ktp_el_baru": ("ktp_el_penggantian", _REPLACEMENT_WORDS)}
)
_CUE_WINDOW = 3
_CUE_WINDOW_AFTER = 4
"""Words after the generic name a cue may be: "KTP saya yang lama hilang"."""

# "kk" is also "kakak" (older sibling, the polite "you"): "makasih kk", "syaratnya apa kk".
_KAKAK_BEFORE = wordset(
    "halo hallo hai hay hi helo hello makasih makasi mksh kasih trims thanks thx tq ok oke okey "
    "okay sip siap iya iy ya yaa baik pagi siang sore malam permisi maaf punten "
    "suksma nggih inggih ampura rahajeng semeng sanja"
)
_KAKAK_BEFORE_LAST = wordset(
    "apa dong donk deh nih sih ya yah ga gak gk nggak tidak brp berapa dimana dmn kapan "
    "gimana gmn bisa boleh kah aja saja ajah"
)
_KAKAK_AFTER_FIRST = wordset("mau mo mw boleh numpang permisi tanya minta bisa tolong")
# "kartu sim" / "sim card" is a phone's SIM, not a driving licence.
_SIM_CARD_BEFORE = wordset("kartu")
_SIM_CARD_AFTER = wordset("card cards")

_TICKET = re.compile(
    r"\bCARE[\s-]?(\d{4})[\s-]?(\d{2})[\s-]?(\d{2})[\s-]?(\d{1,4})(?!\d)", re.IGNORECASE
)
_BOOKING = re.compile(
    r"(?<![^\W_])B(?P<sep>\s?-\s?|\s)?(?P<code>[A-HJ-NP-Z2-9]{6})(?![^\W_])", re.IGNORECASE
)
_MANY_DIGITS = re.compile(r"\d(?:[\s().-]{0,3}\d){7}")
_DATE_LIKE = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$")

_PRIORITY: Mapping[str, int] = MappingProxyType(
    {"ticket_id": 0, "booking_code": 0, "nik": 1, "phone": 2, "date": 3, "time": 3, "service": 4}
)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int


def _words(text: str) -> list[str]:
    """A phrase's tokens as messages are tokenised: lower case, letter runs folded."""
    return [_REPEATS.sub(r"\1", m.group(0).lower()) for m in _TOKEN.finditer(text)]


class EntityExtractor:
    """Extracts entities; build once (it indexes the synonyms), then call :meth:`extract`."""

    def __init__(
        self,
        services: Mapping[str, Sequence[str]],
        *,
        replacement_cues: Mapping[str, tuple[str, frozenset[str]]] = DEFAULT_REPLACEMENT_CUES,
        phone_region: str = "ID",
        warm_up: bool = True,
    ) -> None:
        exact: dict[tuple[str, ...], str] = {}
        ambiguous: set[tuple[str, ...]] = set()
        for service_id, names in services.items():
            for name in names:
                tokens = tuple(_words(name))
                keys = [tokens]
                joined = "".join(tokens)
                if len(tokens) > 1 and len(joined) >= 6:
                    keys.append((joined,))  # "kartukeluarga", "bpjstk"
                for key in keys:
                    if not key:
                        continue
                    if exact.get(key, service_id) != service_id:
                        ambiguous.add(key)
                    exact.setdefault(key, service_id)
        for key in ambiguous:
            del exact[key]
        self._exact = exact
        self._first = frozenset(key[0] for key in exact)
        self._vocab = frozenset(token for key in exact for token in key)
        self._max_tokens = max((len(key) for key in exact), default=0)
        buckets: dict[tuple[int, str], list[tuple[str, tuple[str, ...], str]]] = {}
        for key, service_id in exact.items():
            phrase = " ".join(key)
            if len(key) <= _FUZZY_MAX_TOKENS and len(phrase) >= _FUZZY_MIN_CHARS:
                buckets.setdefault((len(key), phrase[0]), []).append((phrase, key, service_id))
        self._fuzzy = {
            bucket: ([p for p, _, _ in rows], [(k, s) for _, k, s in rows])
            for bucket, rows in buckets.items()
        }
        self._cues = {
            generic: (specific, cues)
            for generic, (specific, cues) in replacement_cues.items()
            if generic in services and specific in services
        }
        self._region = phone_region
        if warm_up:
            dates.warm_up()

    def extract(self, text: str, today: date) -> list[Entity]:
        """Non-overlapping entities sorted by start; ``today`` is the WITA date."""
        candidates: list[Entity] = [
            *self._ids(text),
            *self._phones(text),
            *dates.find_dates(text, today),
            *dates.find_times(text),
            *self._services(text),
        ]
        return _select(candidates)

    # --- ids -------------------------------------------------------------------------

    def _ids(self, text: str) -> Iterator[Entity]:
        for match in _TICKET.finditer(text):
            year, month, day, sequence = (int(g) for g in match.groups())
            try:
                day_ = date(year, month, day)
            except ValueError:
                continue
            if 1 <= sequence <= 9999:
                value = f"CARE-{day_:%Y%m%d}-{sequence:04d}"
                yield Entity("ticket_id", value, match.group(0), match.start(), match.end())
        for match in _BOOKING.finditer(text):
            code = match.group("code").upper()
            if "-" not in (match.group("sep") or "") and not any(c.isdigit() for c in code):
                continue  # "bersama" is a word, not "B-ERSAMA": undashed codes need a digit
            yield Entity("booking_code", f"B-{code}", match.group(0), match.start(), match.end())
        for nik in pii.find_niks(text):  # also "5103 0112 3456 0001": the value is the digits
            yield Entity("nik", nik.digits, text[nik.start : nik.end], nik.start, nik.end)

    def _phones(self, text: str) -> Iterator[Entity]:
        if not _MANY_DIGITS.search(text):
            return
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self._region, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            raw = match.raw_string
            digits = sum(c.isdigit() for c in raw)
            if (digits == 16 and raw.isdigit()) or _DATE_LIKE.match(raw):
                continue
            value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            yield Entity("phone", str(value), raw, match.start, match.end)

    # --- services --------------------------------------------------------------------

    def _tokens(self, text: str) -> list[_Token]:
        tokens: list[_Token] = []
        for match in _TOKEN.finditer(text):
            word = _REPEATS.sub(r"\1", match.group(0).lower())
            if word not in self._vocab:
                for suffix in _ENCLITICS:
                    if word.endswith(suffix) and word[: -len(suffix)] in self._vocab:
                        word = word[: -len(suffix)]  # "ktpnya", "simku"
                        break
            tokens.append(_Token(word, match.start(), match.end()))
        return tokens

    def _services(self, text: str) -> Iterator[Entity]:
        tokens = self._tokens(text)
        words = [t.text for t in tokens]
        found: list[tuple[int, int, str, float]] = []
        for i in range(len(words)):
            if words[i] in self._first:
                for length in range(min(self._max_tokens, len(words) - i), 0, -1):
                    service_id = self._exact.get(tuple(words[i : i + length]))
                    if service_id is not None:
                        found.append((i, i + length, service_id, 1.0))
                        break
            for length in range(1, min(_FUZZY_MAX_TOKENS, len(words) - i) + 1):
                match = self._fuzzy_match(words[i : i + length])
                if match is not None:
                    found.append((i, i + length, *match))
        for i, j, service_id, score in found:
            if _other_sense(words, i, j):
                continue
            service_id = self._apply_cues(words, i, j, service_id)
            start, end = tokens[i].start, tokens[j - 1].end
            yield Entity("service", service_id, text[start:end], start, end, score)

    def _fuzzy_match(self, words: list[str]) -> tuple[str, float] | None:
        key = tuple(words)
        query = " ".join(words)
        if len(query) < _FUZZY_MIN_CHARS or key in self._exact or query.isdigit():
            return None
        bucket = self._fuzzy.get((len(words), query[0]))
        if bucket is None:
            return None
        phrases, rows = bucket
        best = process.extractOne(
            query, phrases, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, processor=None
        )
        if best is None:
            return None
        phrase_words, service_id = rows[best[2]]
        for ours, theirs in zip(words, phrase_words, strict=True):
            if min(len(ours), len(theirs)) < _SHORT_TOKEN and ours != theirs:
                return None  # "kak baru" is not "kk baru"
        return service_id, round(best[1] / 100, 3)

    def _apply_cues(self, words: list[str], i: int, j: int, service_id: str) -> str:
        cue = self._cues.get(service_id)
        if cue is None:
            return service_id
        specific, cue_words = cue
        window = words[max(0, i - _CUE_WINDOW) : j + _CUE_WINDOW_AFTER]
        return specific if any(w in cue_words for w in window) else service_id


def _other_sense(words: list[str], i: int, j: int) -> bool:
    """A short synonym used in its everyday sense: "makasih kk" (kakak), "kartu sim"."""
    if j - i != 1:
        return False
    before = words[i - 1] if i > 0 else ""
    after = words[j] if j < len(words) else ""
    if words[i] == "sim":
        return before in _SIM_CARD_BEFORE or after in _SIM_CARD_AFTER
    if words[i] != "kk":
        return False
    if before in _KAKAK_BEFORE or (not after and before in _KAKAK_BEFORE_LAST):
        return True
    return i == 0 and after in _KAKAK_AFTER_FIRST


def _select(candidates: Iterable[Entity]) -> list[Entity]:
    """Higher-priority types first, then the longest span; no two entities overlap."""
    chosen: list[Entity] = []
    ranked = sorted(
        candidates,
        key=lambda e: (_PRIORITY.get(e.type, 9), -(e.end - e.start), -e.confidence, e.start),
    )
    for entity in ranked:
        if all(entity.end <= c.start or entity.start >= c.end for c in chosen):
            chosen.append(entity)
    return sorted(chosen, key=lambda e: e.start)

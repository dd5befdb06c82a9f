"""A complaint as a frame of slots: what any one message says about it.

The CARE flow asks its questions in order, but a citizen answers in their own
order and several at once ("AC di ruang tunggu rusak dari tadi pagi jam 9" is the
story, the object, the place and the time). :func:`read_slots` finds in a message
the slots that can be read from its words alone: when and where, the object
(:func:`hub.care.classify.classify`), an agency named by its counter, a request
for confidentiality or anonymity, a bribery report. The flow fills whichever are
still empty and asks only for what is missing.

:func:`says_nothing` is the check every open question makes first: "ok", "iya",
"sip", "makasih", "iya sama2 makasih", "ok kirim", a greeting or an emoji is no
place, no time, no agency and no story, so the question is asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hub.care.classify import Classification, classify, named_counter
from hub.catalogue import Catalogue
from hub.dialogs.care_words import FILLER, CareMessage, folded_text

_DAY = (
    r"(?:tadi|barusan|td|kemarin(?: lusa)?|kemaren|kmrn|kmarin|hari ini|pagi ini|siang ini|"
    r"sore ini|minggu (?:lalu|kemarin)|(?:hari )?(?:senin|selasa|rabu|kamis|jumat|jum'at|"
    r"sabtu|minggu)(?: (?:lalu|kemarin|kmrn))?|(?:tgl|tanggal) \d{1,2}(?: [a-z]+)?|"
    r"this morning|yesterday|today|earlier today|just now|last [a-z]+day)"
)
_PART = r"(?:pagi|siang|sore|malam|morning|afternoon|evening)"
_HOUR = (
    r"(?:(?:jam|pukul|pkl|at|around|sekitar|sktr) ?\d{1,2}(?:[.:]\d{2})?"
    r"(?: ?(?:wita|pagi|siang|sore|malam|am|pm))?|\d{1,2}[.:]\d{2}(?: ?wita)?|\d{1,2} ?(?:am|pm))"
)
WHEN = re.compile(
    rf"\b(?:(?:dari|sejak) {_PART}(?: {_HOUR})?|{_DAY}(?: {_PART})?(?: {_HOUR})?|"
    rf"{_PART} (?:ini|tadi)(?: {_HOUR})?|"
    rf"{_PART} {_HOUR}|{_HOUR})(?![\w])"
)
"""When it happened, in the citizen's words: "tadi pagi jam 9", "kemarin", "jam 10.30"."""

WHERE = re.compile(
    r"\b(?:ruang(?:an)? tunggu|waiting (?:room|area)|"
    r"(?:loket|counter|meja)\s*(?:no\.?\s*|nomor\s*|nomer\s*)?[a-z]?\d{1,2}[a-z]?|"
    r"(?:lantai|lt\.?|floor)\s*\d+|"
    r"(?<!petugas )(?<!tukang )(?<!juru )parkir(?:an)?"
    r"(?: (?:motor|mobil|belakang|depan|basement|timur|barat|utara|selatan))?|"
    r"parking(?: lot| area)?|"
    r"toilet(?: (?:pria|wanita|cowok|cewek|laki-laki|perempuan|disabilitas))?|"
    r"lobi|lobby|pintu (?:masuk|keluar|depan|utama)|entrance|halaman(?: depan)?|"
    r"gedung [a-z0-9]+|musholl?a|kantin|pos satpam)(?![\w])"
)
"""Where it happened: a numbered counter or a named place of the mall ("loket paspor"
names a service, not a place, and stays the flow's to ask)."""

_CONFIDENTIAL = re.compile(
    r"\b(?:di ?rahasiakan|rahasiakan|dirahasiain|rahasiain|jangan (?:di)?sebut\w* nama|"
    r"jangan (?:di)?tulis\w* nama|jangan (?:di)?cantumkan nama|nama saya jangan|"
    r"identitas saya (?:di)?rahasia\w*|rahasia(?:kan)? identitas|"
    r"keep (?:my|our) (?:name|identity|report) (?:confidential|secret|private)|"
    r"keep (?:it|this) (?:confidential|secret|private)|confidential(?:ly)?|"
    r"don'?t (?:mention|use|show|reveal) my name)"
)
_ANONYMOUS = re.compile(
    r"\b(?:anonim\w*|anon|tanpa (?:nama|identitas)|sembunyikan (?:nama|identitas)|"
    r"anonymous(?:ly)?|without my name)\b"
)
_ACKNOWLEDGEMENT_WORDS = """
    oke ok okay okey okeh iya ya yes yup yoi sip siap baik baiklah makasih terima kasih
    terimakasih thanks thank you thx tq ty sama kembali mantap mantab kirim send noted
    hehe haha wkwk halo hai hi hello selamat pagi siang sore malam kak kakak min admin pak bu
    bapak ibu mas mbak gan dong deh yah nah nih sudah lanjut good great nice cool sure alright
    banyak ok2 oke2 sama2 sip2 siap2 terimakasi trimakasih trims bener betul"""
ACKNOWLEDGEMENTS = frozenset(_ACKNOWLEDGEMENT_WORDS.split())
"""Words of a message that acknowledges rather than answers ("iya sama2 makasih")."""

NOTHING_INTENTS = ("greet", "thanks", "goodbye", "affirm")
NOTHING_WORDS = 4
"""A short message read with confidence as one of NOTHING_INTENTS says nothing either."""


@dataclass(frozen=True, slots=True)
class Slots:
    """What one message says about the complaint's slots; empty when it says nothing."""

    when: str = ""
    where: str = ""
    about: Classification = field(default_factory=Classification)
    agency: str | None = None
    """An agency named by its counter ("loket samsat")."""
    privacy: str | None = None
    """``confidential`` or ``anonymous`` when the citizen asks for it in so many words."""


def read_slots(text: str, catalogue: Catalogue) -> Slots:
    lowered = " ".join(text.lower().split())
    when = ", ".join(m.group(0) for m in WHEN.finditer(lowered))
    where = ", ".join(dict.fromkeys(m.group(0) for m in WHERE.finditer(lowered)))
    named = named_counter(catalogue, lowered)
    agency = named[0] if named else None
    if named and not where:
        where = named[1]  # "di loket samsat": the counter is also where it happened
    return Slots(
        when=when[:200],
        where=where[:200],
        about=classify(lowered),
        agency=agency,
        privacy=privacy_asked(lowered),
    )


def privacy_asked(text: str) -> str | None:
    """``anonymous`` for "saya mau lapor anonim", ``confidential`` for "mohon identitas saya
    dirahasiakan", "jangan sebut nama saya", "please keep my name confidential"."""
    lowered = " ".join(text.lower().split())
    if _ANONYMOUS.search(lowered):
        return "anonymous"
    if _CONFIDENTIAL.search(lowered):
        return "confidential"
    return None


def privacy_only(text: str) -> bool:
    """A message that only asks for privacy ("rahasiakan ya"): no part of the story."""
    lowered = " ".join(text.lower().split())
    rest = _ANONYMOUS.sub(" ", _CONFIDENTIAL.sub(" ", lowered))
    words = [
        w
        for w in folded_text(rest).split()
        if w not in FILLER and w not in ACKNOWLEDGEMENTS and w not in PRIVACY_FILLER
    ]
    return len(words) <= 1


_PRIVACY_FILLER_WORDS = "identitas nama data diri pelapor my name identity lapor laporan report"
PRIVACY_FILLER = frozenset(_PRIVACY_FILLER_WORDS.split())


def says_nothing(message: CareMessage, sure: float = 0.8) -> bool:
    """True when a typed answer to an open question is only an acknowledgement, thanks,
    a greeting or emoji: no answer at all, so the question is asked again."""
    text = message.text
    if not text or message.chosen:
        return False
    if not re.search(r"[^\W_]", text):
        return True  # emoji, punctuation
    words = message.folded.split()
    if not words or all(w in ACKNOWLEDGEMENTS for w in words):
        return True
    intent = message.understanding.intent
    return (
        intent.name in NOTHING_INTENTS
        and intent.confidence >= sure
        and len(words) <= NOTHING_WORDS
        and not WHEN.search(text.lower())
        and not WHERE.search(text.lower())
    )

"""Reading a citizen's answers in the CARE flow: word lists and the message as read.

Free-text answers ("sudah", "lewati", "anonim", "gak jadi") are not intents, so the
flow reads them with these small, explicit lists over the text as
:func:`hub.nlu.normalise.normalise` folds it ("gak jadi" is "tidak jadi", "udah" is
"sudah"). Editing a list changes what the flow understands, nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hub.nlu.normalise import normalise
from hub.nlu.results import Parse

SWITCH_CONFIDENCE = 0.8
"""How sure the NLU must be that an answer to a choice question asks something else."""

ANSWERS = ("inform", "affirm", "deny", "out_of_scope")
"""Intents of a message that answers the question rather than asking something."""

WRITING_INTENTS = ("file_complaint", "give_appreciation")
"""Intents of messages that tell a story: mid-flow they are the story, not a new request."""

SHORT_REQUEST_WORDS = 6
"""While telling the story, a request for a person is at most this many words."""

# --- what citizens type, folded by hub.nlu.normalise ("gak jadi" -> "tidak jadi") ----------

CANCEL = frozenset(
    {
        "batal",
        "batalkan",
        "batal saja",
        "tidak jadi",
        "tidak jadi saja",
        "tidak usah",
        "cancel",
        "stop",
        "keluar",
        "never mind",
        "nevermind",
    }
)
DONE = frozenset(
    {
        "sudah",
        "sudah itu saja",
        "itu saja",
        "sudah cukup",
        "cukup",
        "selesai",
        "sudah selesai",
        "sudah semua",
        "tidak ada lagi",
        "lanjut",
        "oke",
        "oke lanjut",
        "ya",
        "iya",
        "next",
        "done",
        "that's all",
        "thats all",
        "that is all",
        "finished",
    }
)
SKIP = frozenset(
    {
        "lewati",
        "lewat",
        "skip",
        "tidak",
        "tidak ada",
        "tidak tahu",
        "tidak tau",
        "lupa",
        "no",
        "none",
        "nothing",
        "pass",
        "n a",
    }
)
HAVE_FILES = frozenset({"ada", "ya", "iya", "yes", "mau", "sebentar", "tunggu", "oke"})
YES = frozenset(
    {
        "ya",
        "iya",
        "yes",
        "oke",
        "kirim",
        "ya kirim",
        "benar",
        "betul",
        "sudah benar",
        "setuju",
        "lanjut",
        "send",
        "correct",
        "ya benar",
    }
)
EDIT = frozenset({"ubah", "edit", "ganti", "koreksi", "salah", "change", "perbaiki"})
PRIVACY_WORDS = (
    ("anonymous", ("anonim", "anonymous", "anon", "tanpa nama", "sembunyikan nama")),
    ("confidential", ("rahasia", "confidential", "private", "pribadi")),
    ("normal", ("biasa", "normal", "regular", "umum")),
)
"""First match wins: "rahasiakan nama" is anonymity, checked before "rahasia"."""
EDIT_WORDS = (
    ("description", ("cerita", "kejadian", "isi", "description", "story")),
    ("service", ("layanan", "instansi", "service", "agency")),
    ("when_where", ("waktu", "tempat", "kapan", "where", "when")),
    ("privacy", ("privasi", "anonim", "rahasia", "privacy")),
)
_FILLER_WORDS = """
    saya mau ingin pengen pingin kasih beri memberi buat komplain komplen mengadu ngadu
    adu lapor laporan melapor laporkan pengaduan aduan keluhan mengeluh apresiasi pujian
    memuji terima terimakasih makasih untuk yang ada dong nih admin kakak bapak ibu tolong
    mohon halo hai selamat pagi siang sore malam dengan hormat menyampaikan sampaikan
    mengajukan ajukan soal tentang mengenai terkait sih ya i want would like to file make a an
    the complaint complain report give compliment appreciation feedback about please hello
    hi"""
FILLER = frozenset(_FILLER_WORDS.split())
"""Words of "I want to complain" itself; what is left tells whether a story came along."""
STORY_WORDS = 3
"""Content words from which a first message counts as the description already."""


def tells_a_story(text: str) -> bool:
    """ "mau komplain petugas loket paspor lama banget" does; "mau komplain" does not."""
    return len([w for w in folded_text(text).split() if w not in FILLER]) >= STORY_WORDS


RATING_TEXT = re.compile(r"^\s*([1-5])(?:\s*/\s*5)?(?![\d.,])[\s,.:;!-]*(.*)$", re.DOTALL)
_WORDS_CUT = re.compile(r"^[\s,.;:-]*(?:di|at|in|pada)\b\s*", re.IGNORECASE)


def folded_text(text: str) -> str:
    """The text as the word lists see it: slang folded, no "!" or "?"."""
    return " ".join(w for w in normalise(text).split() if w not in ("!", "?"))


def has_phrase(folded: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", folded) is not None


@dataclass(frozen=True, slots=True)
class CareMessage:
    """One citizen message as the CARE flow reads it."""

    understanding: Parse
    attachments: tuple[dict[str, Any], ...]

    @property
    def text(self) -> str:
        return "" if self.chosen else self.understanding.text.strip()

    @property
    def chosen(self) -> bool:
        """A pressed button (or a numbered answer): its payload says exactly what it means."""
        return self.understanding.engine == "choice"

    @property
    def folded(self) -> str:
        return folded_text(self.text)

    @property
    def intent(self) -> str:
        return self.understanding.intent.name

    def value(self, kind: str) -> str | None:
        found = self.understanding.first(kind)
        return found.value if found is not None else None

    @property
    def option(self) -> str | None:
        return self.value("option") if self.chosen else None

    def elsewhere(self) -> bool:
        """Confidently another question ("jam buka?"), not an answer to this one.

        A typed message that reads as a complaint or praise is still the citizen's
        story; a pressed button of another kind (an old menu) always leaves.
        """
        intent = self.understanding.intent
        if self.chosen:
            return intent.name not in ANSWERS
        return (
            intent.name not in ANSWERS
            and intent.name not in WRITING_INTENTS
            and intent.confidence >= SWITCH_CONFIDENCE
        )

    def cancels(self) -> bool:
        return (self.chosen and self.intent == "deny") or self.folded in CANCEL

    def asks_for_a_person(self, telling: bool) -> bool:
        """ "Mau bicara dengan petugas". While the citizen is telling the story, only a
        short message counts: "petugasnya tidak mau bicara" is part of the story."""
        if self.intent != "talk_to_human":
            return False
        if self.chosen:
            return True
        sure = self.understanding.intent.confidence >= SWITCH_CONFIDENCE
        return sure and (not telling or len(self.text.split()) <= SHORT_REQUEST_WORDS)


def when_and_where(understanding: Parse) -> tuple[str, str]:
    """Split "kemarin jam 10 di loket 3" into when ("kemarin jam 10 (2026-11-29)") and
    where ("loket 3") by the dates and times the NLU found; without one it is all where."""
    text = understanding.text  # the entities' offsets are in the text as it came
    spans = sorted(
        (e.start, e.end)
        for e in understanding.entities
        if e.type in ("date", "time") and 0 <= e.start < e.end <= len(text)
    )
    if not spans:
        return "", text.strip()[:200]
    when = " ".join(text[start:end] for start, end in spans)
    day = understanding.first("date")
    if day is not None:
        when = f"{when} ({day.value})"
    rest, cursor = [], 0
    for start, end in spans:
        if start >= cursor:
            rest.append(text[cursor:start])
            cursor = end
    rest.append(text[cursor:])
    where = " ".join(" ".join(rest).split())
    where = _WORDS_CUT.sub("", where).strip(" ,.;:-")
    return when[:200], where[:200]

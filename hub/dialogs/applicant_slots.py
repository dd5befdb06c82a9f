"""The applicant of a booking in the conversation: who comes, their name and NIK.

Read from any message of a booking, at any step and together with other slots
("lusa jam 10 atas nama Komang Ayu, NIK …"): a name ("atas nama …", "nama saya
…", or a bare name when the applicant was asked for), someone else ("buat anak saya",
"atas nama istri saya", "orang lain") or the citizen themself ("saya sendiri"), the
NIK, and consent to remember it ("ya, simpan"). A later message replaces what an
earlier one said; a new name without a NIK drops the NIK given for another name.

The NIK never reaches the flow in clear: the inbound pipeline masked it in the text and
handed it over sealed (``DialogContext.sealed_niks``). It is opened here only to be
checked (:func:`hub.booking.nik.check_nik`) and kept sealed in the flow's state. A
mistyped one is explained from what is visible: its masked length ("kurang 1 digit",
:func:`hub.pii.masked_lengths`) or the checks on the opened digits ("tanggal lahir
di NIK tidak masuk akal").

Before the confirmation, :meth:`ApplicantStep.ask` asks for what is still missing
(the name always; the NIK when the service asks for an identity) or fills in the
applicant the citizen let us remember, which the confirmation offers with "Orang
lain". Only the citizen's own applicant is remembered, after they chose "Ya, simpan".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub import pii
from hub.booking import Applicant, Applicants, Booking, needs_nik
from hub.booking.nik import NikCheck, check_length, check_nik
from hub.catalogue import Service
from hub.dialogs.context import DialogContext
from hub.model import Choice, Reply
from hub.nlu.normalise import wordset
from hub.nlu.results import Parse

KEY = "applicant"
"""Key of the applicant inside a booking flow's state."""

OPTION_OTHER = "other_applicant"
OPTION_REMEMBER = "remember"

OTHER_CHOICE = Choice("@choice.other_applicant", f'/inform{{"option": "{OPTION_OTHER}"}}')
REMEMBER_CHOICE = Choice("@choice.remember", f'/affirm{{"option": "{OPTION_REMEMBER}"}}')

MAX_NAME_WORDS = 6


# Someone else, by how the citizen is related to them: the key words the templates.
RELATIONS = {
    "anak": "child",
    "putra": "child",
    "putri": "child",
    "anakku": "child",
    "istri": "wife",
    "istriku": "wife",
    "suami": "husband",
    "suamiku": "husband",
    "ibu": "mother",
    "mama": "mother",
    "mamah": "mother",
    "bapak": "father",
    "ayah": "father",
    "bapa": "father",
    "papa": "father",
    "ortu": "parent",
    "orang tua": "parent",
    "kakak": "sibling",
    "adik": "sibling",
    "adek": "sibling",
    "nenek": "grandparent",
    "kakek": "grandparent",
    "cucu": "grandchild",
    "keponakan": "relative",
    "ponakan": "relative",
    "mertua": "parent_in_law",
    "saudara": "relative",
    "keluarga": "relative",
    "teman": "friend",
    "son": "child",
    "daughter": "child",
    "child": "child",
    "wife": "wife",
    "husband": "husband",
    "mother": "mother",
    "mum": "mother",
    "mom": "mother",
    "father": "father",
    "dad": "father",
    "parent": "parent",
}
UNAMBIGUOUS = wordset(
    """anak anakku istri istriku suami suamiku ortu mertua keponakan ponakan cucu
    son daughter child wife husband"""
) | {"orang tua"}
"""Relations that are never part of a name: "buat istri" needs no "saya" after it
(while "atas nama Ibu Sri" and "Putri Ayu" are names)."""


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_REL = _alternatives(RELATIONS)
_MINE = r"(?:saya|sy|aku|ku|gue|gw|kami)"

_OTHER = re.compile(
    r"\b(?:"
    rf"(?:buat|untuk|utk|atas\s+nama|a\.\s?n\.|for|nama)\s+(?:si\s+)?(?P<a>{_alternatives(UNAMBIGUOUS)})"
    rf"|(?P<b>{_REL})\s*{_MINE}|my\s+(?P<c>{_REL})"
    r"|orang\s+lain|bukan\s+(?:untuk\s+|buat\s+)?saya|someone\s+else|another\s+person"
    r")\b",
    re.IGNORECASE,
)
_SELF = re.compile(
    r"\b(?:(?:saya|sy|aku|diri)\s+sendiri|(?:untuk|buat|utk|atas\s+nama)\s+(?:saya|sy|aku)"
    r"(?!\s+(?:" + _REL + r"))\b|myself|for\s+me)\b",
    re.IGNORECASE,
)
_NAME_CUE = re.compile(
    r"\b(?:atas\s+nama|a\.\s?n\.|a/n|an\.|nama\s*lengkap(?:nya)?|nama(?:nya)?"
    r"(?:\s+(?:saya|sy|aku|(?:" + _REL + r")\s*(?:saya|sy|aku)?))?|my\s+name\s+is|name\s+is"
    r"|in\s+the\s+name\s+of|under\s+the\s+name(?:\s+of)?|name:)\s*[:=]?\s*",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['.\-])*")
_REMEMBER = re.compile(r"\b(?:simpan|disimpan|simpen|disimpen|save|remember)\w*\b", re.IGNORECASE)
_NOT = re.compile(
    r"\b(?:jangan|jgn|ga|gak|nggak|enggak|ngga|tidak|tdk|tak|don'?t|do\s+not|no)\b\s*\w*\s*$",
    re.IGNORECASE,
)
_FORGET = re.compile(
    r"\b(?:hapus|hapuskan|lupakan|lupain|delete|forget|remove)\b.{0,20}\b(?:nik|data)\b",
    re.IGNORECASE,
)
_ABOUT_A_BOOKING = re.compile(r"\b(?:antr\w*|booking|kode|queue)\b", re.IGNORECASE)
_VISIBLE_NUMBER = re.compile(r"(?<![\d•])\d{12,20}(?![\d•])")

NOT_A_NAME = (
    wordset(
        """
        ya iya iyaa yaa ok oke okay yes no tidak gak nggak enggak ga batal cancel sudah udah
        saya sy aku gue gw kami dia nik ktp kk nomor dan dengan dgn untuk buat utk yang yg
        jam pukul besok lusa hari ini tanggal tgl sesi pagi siang sore minggu depan senin
        selasa rabu kamis jumat sabtu antri antre antrean antrian booking book queue mau ingin
        pesan ambil tolong mohon terima kasih makasih thanks halo hai kak simpan orang lain
        berapa apa sendiri atas nama the and for my is of tomorrow today morning afternoon
        please bukan nggih inggih ngih enggih suksma sampun oh eh ah salah keliru ralat maksudnya
        maksud maaf sorry typo koreksi ganti
        """
    )
    | UNAMBIGUOUS
)
"""Words that end a name (or are no name at all): answers, slots and request words."""

NOT_A_NAME_INTENTS = ("affirm", "deny", "greet", "thanks", "goodbye")
"""Intents of a message that is surely no name, when the NLU is this sure of them."""
NOT_A_NAME_CONFIDENCE = 0.9


@dataclass(frozen=True, slots=True)
class ApplicantSaid:
    """What one message says about the applicant; every field optional."""

    name: str | None = None
    nik: str | None = None
    """Sealed (hub.security.vault), and checked plausible."""
    problem: NikCheck | None = None
    """A NIK given but wrong: what is wrong with it."""
    relation: str | None = None
    """"self", or the key of someone else ("child", "wife", "other")."""
    remember: bool | None = None

    @property
    def details(self) -> bool:
        """Whether the message names, identifies or switches the applicant."""
        return any(v is not None for v in (self.name, self.nik, self.problem, self.relation))


def read_applicant(
    understanding: Parse, context: DialogContext, applicants: Applicants, *, asked: bool
) -> ApplicantSaid:
    """What the message says about the applicant. ``asked``: the flow's question was
    "who comes?", so a bare name ("Komang Ayu") is an answer too."""
    text = understanding.text or ""
    option = understanding.first("option")
    relation, after = _relation(text)
    if option is not None and option.value == OPTION_OTHER:
        relation = "other"
    name = _name(text) or (_words(text[after:]) if after else None)
    if name is None and asked:
        name = _bare_name(text, understanding)
    nik, problem = _nik(text, context, applicants)
    remember: bool | None = None
    if option is not None and option.value == OPTION_REMEMBER:
        remember = True
    elif (found := _REMEMBER.search(text)) is not None:
        remember = _NOT.search(text[: found.start()]) is None
    return ApplicantSaid(name, nik, problem, relation, remember)


def _relation(text: str) -> tuple[str | None, int]:
    """Whom the booking is for, and where a name may follow ("buat anak saya Putu Gede")."""
    other = _OTHER.search(text)
    if other is not None:
        word = next((g for g in other.group("a", "b", "c") if g), None)
        word = re.sub(r"\s+", " ", word) if word else None
        if word is None:
            return "other", 0
        mine = re.compile(rf"\s*{_MINE}\b", re.IGNORECASE).match(text, other.end())
        return RELATIONS.get(word.lower(), "other"), mine.end() if mine else other.end()
    if _SELF.search(text):
        return "self", 0
    return None, 0


def _name(text: str) -> str | None:
    """The name after a cue ("atas nama Made Sudiarta, NIK …")."""
    for cue in _NAME_CUE.finditer(text):
        name = _words(text[cue.end() :])
        if name:
            return name
    return None


def _bare_name(text: str, understanding: Parse) -> str | None:
    """A message that is only a name (and perhaps a NIK): the answer to "who comes?"."""
    if any(e.type in ("service", "date", "time", "booking_code") for e in understanding.entities):
        return None
    intent = understanding.intent
    if intent.name in NOT_A_NAME_INTENTS and intent.confidence >= NOT_A_NAME_CONFIDENCE:
        return None  # "nggih", "suksma", "gajadi": an answer, thanks, no name
    rest = re.sub(r"\b(?:nik|no\.?\s*ktp)\b\s*[:=]?", " ", text, flags=re.IGNORECASE)
    rest = re.sub(r"[\d•]+", " ", rest)
    words = _NAME_WORD.findall(rest)
    if not words or len(words) > MAX_NAME_WORDS:
        return None
    if any(w.lower().strip(".") in NOT_A_NAME for w in words):
        return None
    if re.search(r"[?!]", rest):
        return None
    return _tidy(words)


def _words(after: str) -> str | None:
    """The words of a name at the start of ``after``, up to a comma, a number or a word
    that is no part of a name."""
    words: list[str] = []
    position = 0
    while len(words) < MAX_NAME_WORDS:
        gap = re.match(r"[ \t]*", after[position:])
        assert gap is not None
        start = position + gap.end()
        word = _NAME_WORD.match(after, start)
        if word is None:
            break
        if word.group().lower().strip(".") in NOT_A_NAME:
            break
        words.append(word.group())
        position = word.end()
    return _tidy(words) if words else None


def _tidy(words: list[str]) -> str:
    """ "made sudiarta" and "MADE SUDIARTA" become "Made Sudiarta"; "I Made" stays."""
    name = " ".join(w.strip(".-'") or w for w in words)
    if name.islower() or name.isupper():
        name = " ".join(w.capitalize() for w in name.split())
    return name


def _nik(
    text: str, context: DialogContext, applicants: Applicants
) -> tuple[str | None, NikCheck | None]:
    """The sealed NIK of the message if it is plausible, else what is wrong with it."""
    for sealed in reversed(context.sealed_niks):
        clear = applicants.open(sealed)
        if clear is None:
            continue
        verdict = check_nik(clear, context.today)
        return (sealed, None) if verdict.ok else (None, verdict)
    lengths = [n for n in pii.masked_lengths(text) if n != pii.NIK_DIGITS]
    lengths += [len(m.group()) for m in _VISIBLE_NUMBER.finditer(text)]
    if lengths:
        return None, check_length(lengths[-1])
    return None, None


def asks_to_forget(text: str) -> bool:
    """ "hapus NIK saya", "lupakan data saya": withdraw the consent to remember (not
    "hapus antrean NIK …", which cancels a booking)."""
    return _FORGET.search(text) is not None and _ABOUT_A_BOOKING.search(text) is None


def short_display(name: str) -> str:
    """ "Made S." for "Made Sudiarta": enough to recognise a remembered applicant."""
    words = name.split()
    if len(words) < 2:
        return name
    return " ".join([words[0], *(f"{w[0]}." for w in words[1:])])


class ApplicantStep:
    """The applicant slot of a booking flow: filling, asking, confirming, remembering."""

    def __init__(self, applicants: Applicants) -> None:
        self.applicants = applicants

    def read(
        self, understanding: Parse, flow: dict[str, Any], context: DialogContext
    ) -> ApplicantSaid:
        if flow.get("mode") != "book":
            return ApplicantSaid()
        asked = flow.get("stage") == "applicant"
        return read_applicant(understanding, context, self.applicants, asked=asked)

    @staticmethod
    def apply(flow: dict[str, Any], said: ApplicantSaid) -> None:
        """Put what the message said into the flow; later words replace earlier ones."""
        if flow.get("mode") != "book" or (not said.details and said.remember is None):
            return
        app: dict[str, Any] = flow.setdefault(KEY, {})
        if said.relation is not None:
            switched = said.relation != app.get("who", "self") or app.get("saved")
            if said.relation == "self":
                switched = app.get("who") == "other"
            if switched:
                for key in ("name", "nik", "nik_for", "saved", "remember"):
                    app.pop(key, None)
            if said.relation != "self":
                app["declined_saved"] = True
            app["who"] = said.relation
        if said.name is not None:
            if app.get("saved") and said.name != app.get("name"):
                app.pop("saved", None)
            if app.get("nik") and said.nik is None and app.get("nik_for") not in (None, said.name):
                app.pop("nik", None)  # a NIK given for someone else's name
                app.pop("nik_for", None)
            app["name"] = said.name
            if app.get("nik") and app.get("nik_for") is None:
                app["nik_for"] = said.name
        if said.nik is not None:
            app["nik"] = said.nik
            app["nik_for"] = app.get("name")
            app.pop("problem", None)
            app.pop("saved", None)
        elif said.problem is not None and said.problem.problem is not None:
            app.pop("nik", None)
            app["problem"] = {"kind": said.problem.problem.value, "count": said.problem.count}
        if said.remember is not None:
            app["remember"] = said.remember

    async def ask(
        self, flow: dict[str, Any], service: Service, context: DialogContext
    ) -> Reply | None:
        """The question for what is missing of the applicant, or None when complete
        (having filled in the remembered applicant when nothing else was said)."""
        app: dict[str, Any] = flow.setdefault(KEY, {})
        wanted_nik = needs_nik(service)
        unknown = not app.get("name") and not app.get("nik")
        if unknown and app.get("who", "self") == "self" and not app.get("declined_saved"):
            saved = await self.applicants.saved(context.contact_id)
            if saved is not None:
                app.update(name=saved.name, nik=saved.nik, nik_for=saved.name, saved=True)
                app["who"] = "self"
        if app.get("name") and (app.get("nik") or not wanted_nik):
            return None
        flow["stage"] = "applicant"
        problem = app.pop("problem", None)
        return Reply(
            "booking_ask_applicant",
            {
                "needs_nik": wanted_nik,
                "relation": app.get("who", "self"),
                "name": app.get("name") or "",
                "has_nik": bool(app.get("nik")),
                "nik": self.applicants.masked(app.get("nik")) or "",
                "problem": problem,
            },
        )

    def view(self, flow: dict[str, Any]) -> dict[str, Any] | None:
        """The applicant as the confirmation shows it: name and masked NIK."""
        app = flow.get(KEY) or {}
        if not app.get("name"):
            return None
        saved = bool(app.get("saved"))
        name = str(app["name"])
        return {
            "name": short_display(name) if saved else name,
            "nik": self.applicants.masked(app.get("nik")) or "",
            "relation": app.get("who", "self"),
            "saved": saved,
            "offer_remember": self._may_remember(app) and not app.get("remember"),
            "remember": bool(app.get("remember")) and self._may_remember(app),
        }

    def confirm_choices(self, flow: dict[str, Any], yes: Choice, no: Choice) -> tuple[Choice, ...]:
        """Ya / Orang lain / Batal for a remembered applicant; Ya / Ya, simpan / Batal
        when the citizen's own applicant may be remembered; else Ya / Batal."""
        app = flow.get(KEY) or {}
        if app.get("saved"):
            return (yes, OTHER_CHOICE, no)
        if self._may_remember(app) and not app.get("remember"):
            return (yes, REMEMBER_CHOICE, no)
        return (yes, no)

    @staticmethod
    def _may_remember(app: dict[str, Any]) -> bool:
        """Only the citizen's own applicant, with a NIK, not already the remembered one."""
        return app.get("who", "self") == "self" and bool(app.get("nik")) and not app.get("saved")

    @staticmethod
    def for_booking(flow: dict[str, Any]) -> Applicant | None:
        app = flow.get(KEY) or {}
        if not app.get("name"):
            return None
        return Applicant(str(app["name"]), app.get("nik") or None)

    async def forget(self, context: DialogContext) -> Reply:
        """The citizen withdrew their consent: the remembered applicant goes."""
        forgotten = await self.applicants.forget(context.contact_id)
        return Reply("booking_applicant_forgotten", {"forgotten": forgotten})

    async def after_booking(self, flow: dict[str, Any], contact_id: int) -> bool:
        """Remember the citizen's own applicant if they agreed; True when it was saved."""
        app = flow.get(KEY) or {}
        applicant = self.for_booking(flow)
        if applicant is None or not app.get("remember") or not self._may_remember(app):
            return False
        await self.applicants.save(contact_id, applicant)
        return True

    def booking_view(self, booking: Booking) -> dict[str, Any] | None:
        """A booked applicant as a list or a reply shows it."""
        if not booking.applicant_name:
            return None
        return {
            "name": booking.applicant_name,
            "nik": self.applicants.masked(booking.applicant_nik) or "",
        }

    def niks_of(self, context: DialogContext) -> str | None:
        """The NIK a "cek antrean NIK …" names, in clear for comparing only; None if none."""
        for sealed in reversed(context.sealed_niks):
            clear = self.applicants.open(sealed)
            if clear is not None:
                return clear
        return None

    def masked_of(self, context: DialogContext) -> str:
        """The NIK of the message as it may be shown (``5103••••••••0001``)."""
        if not context.sealed_niks:
            return ""
        return self.applicants.masked(context.sealed_niks[-1]) or ""

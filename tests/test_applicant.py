"""The applicant of a booking, without the app: the NIK check and its reasons, the
near-NIK mask that keeps a mistyped NIK's length, and reading who comes from a message."""

from __future__ import annotations

from datetime import date

import pytest
from cryptography.fernet import Fernet, MultiFernet

from hub import pii
from hub.booking import Applicants, needs_nik
from hub.booking.nik import NikCheck, Problem, check_length, check_nik
from hub.catalogue import load_catalogue
from hub.dialogs.applicant_slots import asks_to_forget, read_applicant, short_display
from hub.dialogs.context import DialogContext
from hub.nlu.results import Entity, IntentScore, Parse
from hub.security.vault import NikVault

TODAY = date(2026, 11, 30)
NIK = "5103011204850001"  # Badung, Mengwi; a man born 12 April 1985
WOMAN = "5103015204850001"  # the same day + 40: a woman


# --- the NIK check ---------------------------------------------------------------------------


def test_a_plausible_nik_gives_the_birth_date_and_sex() -> None:
    assert check_nik(NIK, TODAY) == NikCheck(birth=date(1985, 4, 12), woman=False)
    assert check_nik(WOMAN, TODAY) == NikCheck(birth=date(1985, 4, 12), woman=True)
    assert check_nik("5103 0112 0485 0001", TODAY).ok
    assert check_nik("9401011210200001", TODAY).birth == date(2020, 10, 12)  # a child: 20xx
    assert check_nik("3171012902000001", TODAY).birth == date(2000, 2, 29)  # 2000 was a leap year


@pytest.mark.parametrize(
    ("nik", "problem", "count"),
    [
        ("510301120485001", Problem.TOO_SHORT, 1),
        ("51030112048500", Problem.TOO_SHORT, 2),
        ("51030112048500011", Problem.TOO_LONG, 1),
        ("51030112O4850001", Problem.NOT_DIGITS, 0),
        ("2003011204850001", Problem.PROVINCE, 0),  # 20: no province
        ("9901011204850001", Problem.PROVINCE, 0),
        ("5100011204850001", Problem.REGENCY, 0),
        ("5103001204850001", Problem.DISTRICT, 0),
        ("5103013204850001", Problem.BIRTH_DATE, 0),  # day 32
        ("5103017204850001", Problem.BIRTH_DATE, 0),  # a woman's day 32
        ("5103011213850001", Problem.BIRTH_DATE, 0),  # month 13
        ("5103013002850001", Problem.BIRTH_DATE, 0),  # 30 February
        ("5103012902010001", Problem.BIRTH_DATE, 0),  # 29 February 2001 or 1901
        ("5103011204850000", Problem.SERIAL, 0),
    ],
)
def test_a_wrong_nik_says_what_is_wrong(nik: str, problem: Problem, count: int) -> None:
    verdict = check_nik(nik, TODAY)
    assert (verdict.problem, verdict.count) == (problem, count)
    assert not verdict.ok


def test_the_length_alone_is_judged_when_the_digits_were_masked() -> None:
    assert check_length(15) == NikCheck(Problem.TOO_SHORT, 1)
    assert check_length(18) == NikCheck(Problem.TOO_LONG, 2)
    assert check_length(16).ok


def test_a_future_birth_date_reads_as_last_century() -> None:
    # "27" in 2026 is 1927; a NIK cannot be of someone not born yet.
    assert check_nik("5103011211270001", TODAY).birth == date(1927, 11, 12)


# --- masking a near-NIK -----------------------------------------------------------------------


def test_a_number_after_the_word_nik_is_masked_keeping_its_length() -> None:
    masked = pii.mask("atas nama Made, NIK 510301120485001 ya")
    assert masked == "atas nama Made, NIK 5103••••••••••• ya"
    assert pii.masked_lengths(masked) == [15]
    assert pii.mask(masked) == masked
    assert pii.masked_lengths(pii.mask("nik saya 5103-0112-0485-00011")) == [17]
    assert pii.masked_lengths(pii.mask(f"NIK {NIK}")) == [16]
    # Without the word it stays a number (as before: the detector is exact at 16).
    assert pii.mask("nomor 510301120485001") == "nomor 510301120485001"
    assert pii.mask("NIK 2026") == "NIK 2026"


# --- reading the applicant from a message -----------------------------------------------------


@pytest.fixture
def applicants() -> Applicants:
    vault = NikVault(MultiFernet([Fernet(Fernet.generate_key())]))
    return Applicants(db=None, vault=vault)  # type: ignore[arg-type]  # no store needed here


def said(
    text: str,
    applicants: Applicants,
    *,
    asked: bool = False,
    entities: tuple[Entity, ...] = (),
    intent: str = "out_of_scope",
) -> tuple[str | None, str | None, str | None, bool | None, Problem | None]:
    """(name, NIK in clear, relation, remember, problem) of ``text`` as the pipeline hands it."""
    sealed = tuple(applicants.seal(n) for n in pii.nik_values(text))
    masked = pii.mask(text)
    context = DialogContext(1, 1, "webchat", TODAY, sealed_niks=sealed)
    parse = Parse(text=masked, intent=IntentScore(intent, 0.3), entities=entities)
    found = read_applicant(parse, context, applicants, asked=asked)
    nik = applicants.open(found.nik) if found.nik else None
    problem = found.problem.problem if found.problem else None
    return found.name, nik, found.relation, found.remember, problem


@pytest.mark.parametrize(
    ("text", "name", "nik", "relation"),
    [
        (f"atas nama Made Sudiarta, NIK {NIK}", "Made Sudiarta", NIK, None),
        (f"lusa jam 10 atas nama Komang Ayu, NIK {WOMAN}", "Komang Ayu", WOMAN, None),
        (f"a.n. I Gusti Ngurah Rai nik {NIK}", "I Gusti Ngurah Rai", NIK, None),
        ("nama saya made sudiarta", "Made Sudiarta", None, None),
        ("buat anak saya", None, None, "child"),
        ("atas nama istri saya", None, None, "wife"),
        ("untuk istri", None, None, "wife"),
        ("utk ibu saya, namanya Ni Luh Sari", "Ni Luh Sari", None, "mother"),
        ("nama anak saya Putu Gede", "Putu Gede", None, "child"),
        (f"buat anak saya Putu Gede nik {NIK}", "Putu Gede", NIK, "child"),
        ("buat istri saya ya", None, None, "wife"),
        ("orang lain", None, None, "other"),
        ("saya sendiri", None, None, "self"),
        ("atas nama saya", None, None, "self"),
        (
            "atas nama Ibu Sri Wahyuni",
            "Ibu Sri Wahyuni",
            None,
            None,
        ),  # an honorific, not a relation
        ("atas nama Putri Ayu", "Putri Ayu", None, None),
        ("for my son", None, None, "child"),
        ("my name is Wayan Sudana", "Wayan Sudana", None, None),
    ],
)
def test_who_comes_is_read_from_the_message(
    applicants: Applicants, text: str, name: str | None, nik: str | None, relation: str | None
) -> None:
    assert said(text, applicants)[:3] == (name, nik, relation)


def test_a_bare_name_counts_only_when_the_applicant_was_asked(applicants: Applicants) -> None:
    assert said(f"Made Sudiarta {NIK}", applicants, asked=True)[:2] == ("Made Sudiarta", NIK)
    assert said("KOMANG AYU", applicants, asked=True)[0] == "Komang Ayu"
    assert said("Made Sudiarta", applicants)[0] is None
    for answer in ("ya", "ok kak", "berapa biayanya?", "besok aja"):
        assert said(answer, applicants, asked=True)[0] is None, answer
    paspor = Entity("service", "paspor", "paspor", 0, 6)
    assert said("paspor", applicants, asked=True, entities=(paspor,))[0] is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("NIK 510301120485001", Problem.TOO_SHORT),
        ("Made 510301120485001", Problem.TOO_SHORT),  # no word NIK: the digits are visible
        ("nik 51030112048500011", Problem.TOO_LONG),
        ("NIK 5103011213850001", Problem.BIRTH_DATE),
        ("NIK 2003011204850001", Problem.PROVINCE),
    ],
)
def test_a_wrong_nik_is_explained_and_not_kept(
    applicants: Applicants, text: str, problem: Problem
) -> None:
    _name, nik, _relation, _remember, found = said(text, applicants)
    assert (nik, found) == (None, problem)


@pytest.mark.parametrize(
    ("text", "remember"),
    [
        ("ya simpan", True),
        ("iya disimpan aja", True),
        ("ya tapi jangan disimpan", False),
        ("gak usah disimpan", False),
        ("ya", None),
    ],
)
def test_consent_to_remember_is_read(applicants: Applicants, text: str, remember: bool) -> None:
    assert said(text, applicants, intent="affirm")[3] is remember


def test_forgetting_the_remembered_applicant_is_asked_in_so_many_words() -> None:
    for text in ("hapus NIK saya", "tolong lupakan data saya", "delete my NIK"):
        assert asks_to_forget(text), text
    for text in ("hapus antrean NIK 5103••••••••0001", "batalkan antrean saya", "NIK saya"):
        assert not asks_to_forget(text), text


def test_a_remembered_applicant_is_shown_short() -> None:
    assert short_display("Made Sudiarta") == "Made S."
    assert short_display("I Gusti Ngurah Rai") == "I G. N. R."
    assert short_display("Made") == "Made"


def test_services_that_ask_for_the_applicants_identity() -> None:
    catalogue = load_catalogue()
    asking = {s.id for s in catalogue.services.values() if needs_nik(s)}
    assert {"ktp_el_baru", "kartu_keluarga", "paspor", "skck"} <= asking
    assert "informasi_tata_ruang" not in asking

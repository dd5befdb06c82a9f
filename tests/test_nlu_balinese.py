"""Balinese-mixed messages and the services of #13: lost KTP, KK, two services, "buin mani".

Fixed "today" (WITA): Sunday 2026-11-29; expected dates worked out by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hub.catalogue import load_catalogue
from hub.nlu.entities import EntityExtractor
from hub.nlu.language import clearly_written_in, detect_language
from hub.nlu.normalise import normalise

ROOT = Path(__file__).resolve().parent.parent
SUNDAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    catalogue = load_catalogue(ROOT / "services.yaml")
    return EntityExtractor(
        {s.id: [s.name_id, s.name_en, *s.synonyms] for s in catalogue.services.values()}
    )


def values(extractor: EntityExtractor, text: str, kind: str) -> list[str]:
    return [e.value for e in extractor.extract(text, SUNDAY) if e.type == kind]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("buin mani", "2026-11-30"),
        ("tiang nunas antrian kk buin mani nggih", "2026-11-30"),
        ("Buin  mani semeng", "2026-11-30"),
        ("antri skck buin puan", "2026-12-01"),
    ],
)
def test_buin_mani_is_tomorrow(extractor: EntityExtractor, text: str, expected: str) -> None:
    assert values(extractor, text, "date") == [expected]


def test_balinese_parts_of_day_are_times_but_rahajeng_semeng_is_a_greeting(
    extractor: EntityExtractor,
) -> None:
    assert values(extractor, "buin mani semeng nggih", "time") == ["pagi"]
    assert values(extractor, "buin mani sanja", "time") == ["sore"]
    assert values(extractor, "rahajeng semeng bli", "time") == []


@pytest.mark.parametrize(
    "text",
    [
        "ktp sy ilang",
        "klo ktp sy ilang gmn min",
        "KTP saya yang lama hilang",
        "ktpne ilang, kenken carane?",
        "dompet sy ilang isinya ktp",
    ],
)
def test_a_lost_ktp_is_the_replacement_service(extractor: EntityExtractor, text: str) -> None:
    assert values(extractor, text, "service") == ["ktp_el_penggantian"]


@pytest.mark.parametrize(
    "text",
    [
        "dados ngurus kk driki?",
        "tiang jagi ngae KK nggih",
        "napi syarat kk nggih?",
        "om swastyastu, tiang nunas info KK",
        "kk-ne tiang rusak",
    ],
)
def test_kk_in_a_balinese_sentence_is_the_family_card(
    extractor: EntityExtractor, text: str
) -> None:
    assert values(extractor, text, "service") == ["kartu_keluarga"]


@pytest.mark.parametrize("text", ["suksma kk", "rahajeng semeng kk", "nggih kk"])
def test_kk_after_a_balinese_courtesy_is_kakak(extractor: EntityExtractor, text: str) -> None:
    assert values(extractor, text, "service") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ktp sama kk", ["ktp_el_baru", "kartu_keluarga"]),
        ("antri ktp sama kk besok", ["ktp_el_baru", "kartu_keluarga"]),
        ("syarat paspor dan skck apa aja", ["paspor", "skck"]),
        ("ktp sy ilang sama kk jg", ["ktp_el_penggantian", "kartu_keluarga"]),
    ],
)
def test_two_services_in_one_message_are_two_entities_in_order(
    extractor: EntityExtractor, text: str, expected: list[str]
) -> None:
    assert values(extractor, text, "service") == expected


def test_konsultasi_pbg_lusa_has_the_service_and_the_date(extractor: EntityExtractor) -> None:
    found = [(e.type, e.value) for e in extractor.extract("mau konsultasi PBG lusa", SUNDAY)]
    assert found == [("service", "pbg"), ("date", "2026-12-01")]


@pytest.mark.parametrize(
    ("balinese", "indonesian"),
    [
        ("tiang nunas info nggih", "saya minta info ya"),
        ("dados ngurus driki?", "boleh urus sini ?"),
        ("kenken carane?", "bagaimana caranya ?"),
        ("napi syaratne", "apa syaratne"),
        ("ampura, sampun ten", "maaf sudah tidak"),
        ("suksma", "makasih"),
        ("rahajeng semeng", "selamat pagi"),
    ],
)
def test_balinese_chat_words_fold_into_indonesian(balinese: str, indonesian: str) -> None:
    assert normalise(balinese) == indonesian


@pytest.mark.parametrize(
    "text",
    [
        "om swastyastu",
        "rahajeng semeng",
        "tiang nunas info nggih",
        "dados ngurus kk driki?",
        "kenken carane ngae paspor",
    ],
)
def test_balinese_counts_as_indonesian(text: str) -> None:
    assert detect_language(text) == "id"
    assert not clearly_written_in(text, "en")


@pytest.mark.parametrize(
    ("text", "en", "id"),
    [
        ("booking", False, False),
        ("ok", False, False),
        ("thanks", False, False),
        ("thank you", False, False),
        ("see you", False, False),
        ("Made Sudiarta", False, False),
        ("booking B-US8NEL", False, False),
        ("terima kasih", False, False),
        ("hello", True, False),
        ("what documents do I need for a passport", True, False),
        ("saya mau antri ktp besok", False, True),
        ("tiang nunas info kk nggih", False, True),
    ],
)
def test_clear_evidence_of_a_language(text: str, en: bool, id: bool) -> None:
    assert clearly_written_in(text, "en") is en
    assert clearly_written_in(text, "id") is id

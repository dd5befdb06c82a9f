"""What citizens read from the catalogue carries none of the maintainers' research notes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.catalogue import (
    Catalogue,
    CatalogueError,
    citizen_text,
    default_catalogue_path,
    load_catalogue,
)
from hub.catalogue.reading import YAML_LOADER
from hub.channels.sms_text import is_gsm7

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Loket Disdukcapil (placeholder: A1-A4)", "Loket Disdukcapil"),
        ("Gratis (typical, unverified)", "Gratis"),
        (
            "Kelas 3 Rp42.000 (Kelas 2 Rp100.000: typical, unverified)",
            "Kelas 3 Rp42.000 (Kelas 2 Rp100.000)",
        ),
        ("1-3 hari kerja (Disdukcapil Bontang standard; Badung unverified)", "1-3 hari kerja"),
        ("Rp30.000 (PNBP, PP 60/2016)", "Rp30.000 (PNBP, PP 60/2016)"),
    ],
)
def test_research_notes_are_dropped(raw: str, shown: str) -> None:
    assert citizen_text(raw) == shown


def test_no_loaded_citizen_text_mentions_placeholders_or_verification() -> None:
    catalogue = load_catalogue()
    for service in catalogue.services.values():
        for text in (service.counter, service.fee, service.completion_time, *service.requirements):
            assert "placeholder" not in text.lower(), (service.id, text)
            assert "unverified" not in text.lower(), (service.id, text)
    assert all("unverified" not in a.name for a in catalogue.agencies.values())


# --- translations ---------------------------------------------------------------------------

RAW = yaml.safe_load(default_catalogue_path().read_text(encoding="utf-8"))
SERVICE_TEXTS = ("counter", "requirements", "fee", "completion_time")
"""The sourced service fields a citizen reads, besides the names (``name_en``, ``short_en``)."""


def _english(record: dict[str, Any]) -> dict[str, Any]:
    return (record.get("translations") or {}).get("en") or {}


@pytest.mark.parametrize("raw", RAW["services"], ids=lambda raw: raw["id"])
def test_every_service_has_english_for_each_field_it_has_in_indonesian(
    raw: dict[str, Any],
) -> None:
    english = _english(raw)
    assert raw["name_en"].strip() and raw["short_en"].strip()
    for key in SERVICE_TEXTS:
        if str(raw.get(key) or "").strip():
            assert english.get(key), f"{raw['id']}: no English {key}"
    assert len(english["requirements"]) == len(raw["requirements"])
    for day, value in raw["hours"].items():
        words = re.sub(r"[\d:\-\s]", "", str(value))
        if words and words.lower() not in ("closed", "tutup", "libur"):
            # A day with a note: the sourced words are English, or there is a translation.
            assert day in english.get("hours", {}) or str(value).startswith("closed ("), value


@pytest.mark.parametrize("slug", sorted(RAW["agencies"]))
def test_every_agency_has_an_english_name_and_short_name(slug: str) -> None:
    agency = RAW["agencies"][slug]
    english = _english(agency)
    assert english.get("name"), slug
    assert english.get("short") or not agency.get("short"), slug


def test_the_malls_address_has_english() -> None:
    assert _english(RAW["mall"])["location"].endswith("Mengwi, Badung, Bali 80351")


def _figures(text: str) -> list[str]:
    return sorted(re.findall(r"\d+", text))


def _translated_pairs() -> list[tuple[str, str, str]]:
    """(where, sourced text as citizens see it, its translation) for every translation."""
    pairs = []
    for service in CATALOGUE.services.values():
        for locale, translation in service.translations.items():
            where = f"{service.id}/{locale}"
            for key in ("counter", "fee", "completion_time"):
                if getattr(translation, key) is not None:
                    pairs.append(
                        (f"{where}/{key}", getattr(service, key), getattr(translation, key))
                    )
            for index, item in enumerate(translation.requirements or ()):
                pairs.append((f"{where}/requirements/{index}", service.requirements[index], item))
            for day, value in translation.hours.items():
                pairs.append((f"{where}/hours/{day}", service.hours[day], value))
    return pairs


def test_translations_carry_the_same_figures_as_their_sources() -> None:
    """A fee or a deadline changed in one language only is caught here."""
    pairs = _translated_pairs()
    assert len(pairs) > 150
    for where, sourced, translated in pairs:
        assert _figures(translated) == _figures(sourced), (where, sourced, translated)


def test_english_catalogue_text_fits_the_sms_alphabet_and_has_no_research_notes() -> None:
    for service in CATALOGUE.services.values():
        words = service.wording("en")
        for text in (words.name, words.short, words.counter, words.fee, words.completion_time):
            assert is_gsm7(text), (service.id, text)
            assert "unverified" not in text and "placeholder" not in text, (service.id, text)
        assert all(is_gsm7(item) for item in words.requirements), service.id
    for agency in CATALOGUE.agencies.values():
        assert is_gsm7(agency.wording("en").name) and is_gsm7(agency.wording("en").short)
    assert is_gsm7(CATALOGUE.mall_wording("en").address)


def test_wording_follows_the_locale_and_falls_back_to_the_sourced_text() -> None:
    kk = CATALOGUE.services["kartu_keluarga"]
    english, indonesian = kk.wording("en"), kk.wording("id")
    assert english.name == kk.name_en and english.short == "Family card (KK)"
    assert english.counter == "Disdukcapil counter" and english.fee == "Free"
    assert english.completion_time == "1-3 working days"
    assert indonesian.counter == kk.counter == "Loket Disdukcapil"
    assert indonesian.requirements == tuple(kk.requirements) and indonesian.fee == "Gratis"
    # The research wrote a few facts in English: Indonesian speakers read them translated.
    paspor = CATALOGUE.services["paspor"].wording("id")
    assert paspor.completion_time.startswith("Sekitar 3-4 hari kerja")
    assert paspor.hours["sat"].startswith("tutup (Imigrasi kadang")
    assert CATALOGUE.services["paspor"].wording("en").hours["sat"].startswith("closed (Imigrasi")
    assert CATALOGUE.agencies["imigrasi"].wording("en").short == "Immigration"
    assert CATALOGUE.agencies["imigrasi"].wording("id").short == "Imigrasi"
    # A locale without translations reads the sourced text.
    assert kk.wording("fr").requirements == tuple(kk.requirements)


def _document(**translations: Any) -> dict[str, Any]:
    service: dict[str, Any] = {
        "id": "paspor",
        "name_id": "Paspor",
        "name_en": "Passport",
        "agency": "imigrasi",
        "counter": "Loket Imigrasi",
        "requirements": ["KTP-el", "Kartu Keluarga"],
        "fee": "Rp350.000",
        "duration_minutes": 30,
        "daily_quota": 50,
        "hours": {"mon_thu": "08:00-15:00", "sat": "tutup"},
        "synonyms": ["pasport"],
    }
    if translations:
        service["translations"] = translations
    return {"agencies": {"imigrasi": {"name": "Kantor Imigrasi"}}, "services": [service]}


def _load(tmp_path: Path, document: dict[str, Any]) -> Catalogue:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_catalogue(path)


def test_a_partial_translation_falls_back_field_by_field(tmp_path: Path) -> None:
    catalogue = _load(tmp_path, _document(en={"requirements": ["ID card", "Family Card"]}))
    words = catalogue.services["paspor"].wording("en")
    assert words.requirements == ("ID card", "Family Card")
    assert words.counter == "Loket Imigrasi" and words.fee == "Rp350.000"
    assert words.name == words.short == "Passport"
    assert catalogue.agencies["imigrasi"].wording("en").name == "Kantor Imigrasi"


@pytest.mark.parametrize(
    ("translations", "message"),
    [
        ({"en": {"requirements": ["ID card"]}}, "must list 2 texts"),
        ({"en": {"counter": "Immigration", "price": "x"}}, "cannot translate price"),
        ({"en": {"completion_time": "1 day"}}, "translates nothing"),
        ({"en": {"hours": {"sun": "closed"}}}, "days of the sourced 'hours'"),
        ({"fr": {"fee": "gratuit"}}, "'translations' must map id or en"),
        ({"en": {"fee": ""}}, "'fee' must be a non-empty string"),
    ],
)
def test_a_malformed_translation_fails_at_load(
    tmp_path: Path, translations: dict[str, Any], message: str
) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        _load(tmp_path, _document(**translations))


def test_a_malformed_agency_or_mall_translation_fails_at_load(tmp_path: Path) -> None:
    document = _document()
    document["agencies"]["imigrasi"]["translations"] = {"en": {"title": "Immigration"}}
    with pytest.raises(CatalogueError, match="may only hold 'name' and 'short'"):
        _load(tmp_path, document)
    document = _document()
    document["mall"] = {"translations": {"en": {"address": "Mengwi"}}}
    with pytest.raises(CatalogueError, match="may only hold a 'location'"):
        _load(tmp_path, document)


# --- reading --------------------------------------------------------------------------------


def test_services_yaml_is_read_by_libyaml_into_the_document_the_pure_loader_builds() -> None:
    """The C loader is a speed-up only: it must read services.yaml as SafeLoader does."""
    text = default_catalogue_path().read_text(encoding="utf-8")
    if yaml.__with_libyaml__:
        assert YAML_LOADER is yaml.CSafeLoader
    assert yaml.load(text, Loader=YAML_LOADER) == yaml.load(text, Loader=yaml.SafeLoader)

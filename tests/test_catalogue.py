"""What citizens read from the catalogue carries none of the maintainers' research notes."""

from __future__ import annotations

import pytest

from hub.catalogue import citizen_text, load_catalogue


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

"""One phone number is one contact, however the citizen or the provider writes it."""

from __future__ import annotations

import pytest

from hub.addresses import normalise, to_e164
from hub.model import AddressKind

E164 = "+6281234567890"

SAME_NUMBER = [
    "081234567890",
    "+6281234567890",
    "6281234567890",
    "0812-3456-7890",
    "+62 812 3456 7890",
    "006281234567890",
    "0062 812 3456 7890",
    "(0812) 3456 7890",
    " 081234567890 ",
]

GARBAGE = ["abc", "123", "", "   ", "+", "62", "0062", "62abc", "0812", "not a number 0812"]


@pytest.mark.parametrize("raw", SAME_NUMBER)
def test_indonesian_numbers_become_e164(raw: str) -> None:
    assert to_e164(raw) == E164


def test_landline_in_bali() -> None:
    assert to_e164("0361 222333") == "+62361222333"


@pytest.mark.parametrize("raw", ["+14155552671", "+1 (415) 555-2671", "0014155552671"])
def test_foreign_number_stays_foreign(raw: str) -> None:
    assert to_e164(raw) == "+14155552671"


def test_region_decides_numbers_without_country_code() -> None:
    assert to_e164("(415) 555-2671", region="US") == "+14155552671"
    assert to_e164("(415) 555-2671") is None


@pytest.mark.parametrize("raw", GARBAGE)
def test_garbage_is_none(raw: str) -> None:
    assert to_e164(raw) is None


@pytest.mark.parametrize("raw", SAME_NUMBER)
@pytest.mark.parametrize("kind", [AddressKind.PHONE, AddressKind.PHONE_OR_NAME])
def test_normalise_phone_kinds(raw: str, kind: AddressKind) -> None:
    assert normalise(raw, kind) == E164


@pytest.mark.parametrize("raw", ["abc", "123", "local-user", ""])
def test_normalise_phone_rejects_garbage(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise(raw, AddressKind.PHONE)


@pytest.mark.parametrize("raw", ["local-user", "Budi Santoso", "abc", "123"])
def test_phone_or_name_keeps_a_name(raw: str) -> None:
    assert normalise(raw, AddressKind.PHONE_OR_NAME) == raw


@pytest.mark.parametrize(
    "raw",
    ["081234567890", "+6281234567890", "6281234567890", "chat-7f3a", "123456789", "Ab_C:9"],
)
def test_opaque_is_untouched(raw: str) -> None:
    assert normalise(raw, AddressKind.OPAQUE) == raw

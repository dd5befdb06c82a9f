"""Normalising sender addresses so one phone number is one contact everywhere."""

from __future__ import annotations

import phonenumbers

from hub.model import AddressKind

DEFAULT_REGION = "ID"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """``+62...`` for a valid phone number written any common way, else None."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text[:2] == "62" and text[2:].isdigit() and len(text) > 9:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise(raw: str, kind: AddressKind, region: str = DEFAULT_REGION) -> str:
    """The address the store keys identities on; ValueError for a bad phone number."""
    if kind is AddressKind.OPAQUE:
        return raw.strip()
    phone = to_e164(raw, region)
    if phone is not None:
        return phone
    if kind is AddressKind.PHONE:
        raise ValueError("not a valid phone number")
    return raw.strip()

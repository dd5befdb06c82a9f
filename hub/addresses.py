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
    if kind is AddressKind.EMAIL:
        return normalise_email(raw)
    phone = to_e164(raw, region)
    if phone is not None:
        return phone
    if kind is AddressKind.PHONE:
        raise ValueError("not a valid phone number")
    return raw.strip()


def normalise_email(raw: str) -> str:
    """A mail address as identities key it: trimmed and lowercased (providers treat
    the local part case-insensitively in practice); ValueError when it is no address."""
    address = raw.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in "<>,;" for c in address):
        raise ValueError("not a valid email address")
    return address


MASK = "••••"


def mask_address(address: str) -> str:
    """What an officer may see of a citizen's address: enough to tell two apart at the
    counter, never the whole number. A phone keeps its last four digits ("•••• 7890"),
    an email its first two letters and its domain ("bu••••@example.co.id")."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if at and local and domain:
        return f"{local[:2]}{MASK}@{domain}"
    return MASK if len(address) <= 4 else f"{MASK} {address[-4:]}"

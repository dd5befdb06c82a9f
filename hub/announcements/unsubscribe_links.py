"""The token of an email's one-click unsubscribe link: the contact's id, signed.

Signed with the hub's secret (HMAC-SHA256, cut to 128 bits), so nobody can
unsubscribe someone else by guessing ids, and no table is needed: the token is
checked, not looked up. It does not expire; a citizen may click an old mail."""

from __future__ import annotations

import hashlib
import hmac
import re

_TOKEN = re.compile(r"^c(\d{1,18})\.([0-9a-f]{32})$")


def _signature(contact_id: int, secret: bytes) -> str:
    digest = hmac.new(secret, f"unsubscribe:{contact_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def token_for(contact_id: int, secret: bytes) -> str:
    return f"c{contact_id}.{_signature(contact_id, secret)}"


def contact_of(token: str, secret: bytes) -> int | None:
    """The contact the token was made for, or None when it is not one of ours."""
    found = _TOKEN.match(token)
    if found is None:
        return None
    contact_id = int(found.group(1))
    if not hmac.compare_digest(found.group(2), _signature(contact_id, secret)):
        return None
    return contact_id

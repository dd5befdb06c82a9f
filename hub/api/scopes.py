"""What an API token may do: the scopes, and which one each route needs.

The one place scopes are defined. A later feature adds its scope to ``Scope`` with a
line in ``DESCRIPTIONS``, and names it on its routes in ``hub.api.operations``; the
token command, the auth middleware and the OpenAPI document all read them from there.
A route missing from that table is refused to every token (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Scope(StrEnum):
    SERVICES_READ = "services:read"
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"
    BOOKINGS_APPLICANT = "bookings:applicant"
    TICKETS_READ = "tickets:read"
    TICKETS_WRITE = "tickets:write"
    TICKETS_READ_CONFIDENTIAL = "tickets:read-confidential"
    ANNOUNCEMENTS_WRITE = "announcements:write"
    ANNOUNCEMENTS_APPROVE = "announcements:approve"


DESCRIPTIONS: Mapping[Scope, str] = {
    Scope.SERVICES_READ: "the service catalogue and the sessions of a day with their free places",
    Scope.BOOKINGS_READ: "the day's bookings and one booking by its code (never who booked)",
    Scope.BOOKINGS_WRITE: "check a booking in, cancel it",
    Scope.BOOKINGS_APPLICANT: "adds, to every booking answered, its applicant's name and "
    "masked NIK, and finds today's bookings by the NIK on a KTP (check-in at the counter)",
    Scope.TICKETS_READ: "CARE tickets (complaints, appreciations): list and read; a "
    "confidential ticket's text and reporter are withheld",
    Scope.TICKETS_WRITE: "move a CARE ticket through the procedure (the answer is the moved "
    "ticket, withheld as for tickets:read)",
    Scope.TICKETS_READ_CONFIDENTIAL: "adds, to tickets:read and tickets:write, the text and "
    "reporter of confidential tickets",
    Scope.ANNOUNCEMENTS_WRITE: "draft an announcement (topics or the citizens booked for a "
    "service or agency on a day); list and read announcements with their delivery counts. "
    "Nothing is sent before a token with announcements:approve (or a supervisor) approves it",
    Scope.ANNOUNCEMENTS_APPROVE: "approve a drafted announcement, which sends it now or at "
    "its send_at; list and read announcements with their delivery counts",
}

LEGACY_SCOPES: frozenset[Scope] = frozenset(
    {
        Scope.SERVICES_READ,
        Scope.BOOKINGS_READ,
        Scope.BOOKINGS_WRITE,
        Scope.TICKETS_READ,
        Scope.TICKETS_WRITE,
    }
)
"""A token made before scopes existed (``scopes`` NULL): what it could do before, except
the content of confidential tickets. Fixed: scopes added later are not granted to it."""


class ScopeError(ValueError):
    """Scopes asked for that do not exist, or none at all."""


def valid_scopes_text() -> str:
    """Every scope with what it allows, one per line, for an error or a help text."""
    width = max(len(s.value) for s in Scope)
    return "\n".join(f"  {s.value.ljust(width)}  {DESCRIPTIONS[s]}" for s in Scope)


def parse_scopes(names: Iterable[str] | None) -> frozenset[Scope]:
    """The scopes an operator typed; ScopeError naming the valid ones otherwise."""
    typed = [n.strip() for n in names or ()]
    if not typed:
        raise ScopeError(
            "choose what the token may do with --scope (repeat it for several), e.g. "
            "--scope bookings:read for a queue display. The scopes:\n" + valid_scopes_text()
        )
    known = {s.value for s in Scope}
    unknown = [n for n in typed if n not in known]
    if unknown:
        raise ScopeError(
            f"unknown scope(s) {', '.join(map(repr, unknown))}; the scopes are:\n"
            + valid_scopes_text()
        )
    return frozenset(Scope(n) for n in typed)


def granted(stored: Iterable[str] | None) -> frozenset[Scope]:
    """What a stored token may do: ``LEGACY_SCOPES`` for NULL (a token older than scopes).

    A stored name no longer known (a scope a later version dropped) grants nothing.
    """
    if stored is None:
        return LEGACY_SCOPES
    known = {s.value for s in Scope}
    return frozenset(Scope(n) for n in stored if n in known)

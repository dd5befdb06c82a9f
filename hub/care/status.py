"""The life of a CARE ticket: which status may follow which.

Kept apart from storage and channels so the rules are checked the same way
whether a move comes from the console, the REST API or a scheduled SLA job.
"""

from __future__ import annotations

import enum


class TicketStatus(enum.StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    FORWARDED = "forwarded"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


class IllegalTransition(ValueError):
    """A status change the CARE procedure does not allow (the REST API answers 409)."""


_ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.RECEIVED: frozenset({TicketStatus.VERIFIED, TicketStatus.REJECTED}),
    TicketStatus.VERIFIED: frozenset({TicketStatus.FORWARDED, TicketStatus.REJECTED}),
    TicketStatus.FORWARDED: frozenset({TicketStatus.IN_PROGRESS}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED}),
    # A low rating sends a resolved ticket back to work.
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.IN_PROGRESS}),
    TicketStatus.CLOSED: frozenset(),
    TicketStatus.REJECTED: frozenset(),
}


def allowed_next(status: TicketStatus) -> frozenset[TicketStatus]:
    return _ALLOWED[status]


def check_transition(current: TicketStatus, target: TicketStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current`` may become ``target``."""
    if target not in _ALLOWED[current]:
        raise IllegalTransition(f"a {current.value} ticket cannot become {target.value}")

"""What templates get for a CARE ticket, and the messages about its changes.

Shared by the CARE flow (filing, status checks) and by the notifier that tells
citizens when officers move their tickets, so a ticket reads the same in both.
Plain dicts only; the status words and every sentence live in the templates.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.care.access import ActorRole
from hub.care.service import Change, Ticket
from hub.care.status import TicketStatus
from hub.catalogue import Catalogue
from hub.dialogs.info import agency_name, short_name
from hub.dialogs.views import day_view
from hub.model import Choice, Reply

RATING_STATE = "care_rating"
"""Dialog-state key holding the id of a resolved ticket whose rating the citizen is asked."""

RATINGS = range(1, 6)

NOTICE_KINDS = ("status", "rating")
"""Changes the citizen hears about; notes, assignments and SLA marks are the officers'."""

NOTE_SHOWN = (TicketStatus.REJECTED.value, TicketStatus.RESOLVED.value)
"""Statuses whose officer note the citizen always gets: the reason, or the answer."""


def rating_payload(ticket_id: str, rating: int) -> str:
    """A rating button: carries its ticket, so a late tap still rates the right one."""
    return "/inform" + json.dumps({"ticket_id": ticket_id, "rating": str(rating)})


def rating_choices(ticket_id: str) -> tuple[Choice, ...]:
    """1 to 5, in that order, so an SMS menu's numbers are the ratings themselves."""
    return tuple(Choice(f"@rating.{n}", rating_payload(ticket_id, n)) for n in RATINGS)


def due_day(deadline: datetime | None, zone: ZoneInfo) -> dict[str, Any] | None:
    """The last day of a deadline in ``zone``: deadlines run to the midnight that ends that day."""
    if deadline is None:
        return None
    return day_view((deadline.astimezone(zone) - timedelta(microseconds=1)).date())


def about(ticket: Ticket, catalogue: Catalogue, locale: str) -> str:
    """What the ticket is about, as short as a list line allows: service, agency, or words."""
    service = catalogue.get(ticket.service_id) if ticket.service_id else None
    if service is not None:
        return short_name(service, locale)
    if ticket.agency and ticket.agency in catalogue.agencies:
        return agency_name(catalogue, ticket.agency, locale)
    return ticket.category


LATE_STATUSES = frozenset(
    s.value
    for s in (
        TicketStatus.RECEIVED,
        TicketStatus.VERIFIED,
        TicketStatus.FORWARDED,
        TicketStatus.IN_PROGRESS,
    )
)
"""Statuses whose deadline, once passed, makes a ticket late (the citizen may escalate)."""


def ticket_view(
    ticket: Ticket,
    catalogue: Catalogue,
    locale: str,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Dates are days in ``zone`` (server.timezone); ``now`` tells whether the ticket is
    late (its deadline passed while still worked)."""
    late = (
        now is not None
        and ticket.sla_due_at is not None
        and ticket.sla_due_at <= now
        and ticket.status in LATE_STATUSES
    )
    return {
        "id": ticket.ticket_id,
        "kind": ticket.kind,
        "status": ticket.status,
        "about": about(ticket, catalogue, locale),
        "filed": day_view(ticket.created_at.astimezone(zone).date()),
        "due": due_day(ticket.sla_due_at, zone),
        "anonymous": ticket.anonymous,
        "confidential": ticket.confidential,
        "rating": ticket.rating,
        "priority": ticket.priority,
        "object": ticket.object or "",
        "late": late,
        "escalated": ticket.needs_supervisor,
    }


def _tells_citizen(change: Change) -> bool:
    return change.kind in NOTICE_KINDS and change.actor.role is not ActorRole.CITIZEN


def ticket_notice(
    ticket: Ticket, change: Change, catalogue: Catalogue, locale: str, zone: ZoneInfo
) -> list[Reply]:
    """What the citizen is told of a change officers (or the system) made to a ticket.

    The new status in the citizen's words, with the officer's note when there is
    one (a rejection's reason, a resolution's answer); a resolution also asks for
    a rating, 1 to 5. The citizen's own changes (filing, rating) need no notice.
    The ticket's days are read in ``zone`` (server.timezone), as in the CARE flow.
    """
    if not _tells_citizen(change):
        return []
    status = change.to_status or ticket.status
    note = change.note.strip()
    if status not in NOTE_SHOWN and change.actor.role is ActorRole.SYSTEM:
        note = ""  # the system's notes ("auto", "SLA") are for officers
    rate = status == TicketStatus.RESOLVED.value
    return [
        Reply(
            "care_notice",
            {
                "ticket": ticket_view(ticket, catalogue, locale, zone),
                "status": status,
                "note": note,
                "rate": rate,
            },
            choices=rating_choices(ticket.ticket_id) if rate else (),
        )
    ]


def notice_state(ticket: Ticket, change: Change) -> dict[str, Any]:
    """Dialog-state keys to set with a notice: after ``resolved``, the rating awaited."""
    if _tells_citizen(change) and change.to_status == TicketStatus.RESOLVED.value:
        return {RATING_STATE: ticket.ticket_id}
    return {}

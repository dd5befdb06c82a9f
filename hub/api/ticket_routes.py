"""The CARE tickets of ``/api/v1``: list, read and move complaints and appreciations.

The mall's systems act as the CARE role ``system`` (trusted like supervisors), so
they see every agency's tickets. A confidential ticket's own words (category,
description, incident, attachments, history notes, rating comment) and its reporter
(``contact_id``) are withheld (``"redacted": true``, those fields null) unless the
token has ``tickets:read-confidential``. They never see how to reach the citizen:
no phone number, name or address, and for an anonymous ticket not even the internal
``contact_id``. Every move goes through
``CareService``, so the procedure's rules, history and the citizen's notice are
the same as for a move made in the console.
"""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import MISSING

from hub.api import shapes
from hub.api.bodies import answer, read_body
from hub.api.deps import API, API_CALLER, API_SCOPES
from hub.api.errors import ApiError, api_error, bad_request, not_found
from hub.api.scopes import Scope
from hub.care.access import Actor, ActorRole
from hub.care.service import CareService, NotAllowed, TicketDetail, TicketKind, TicketNotFound
from hub.care.status import IllegalTransition, TicketStatus, allowed_next
from hub.store.tickets import AttachmentRecord, EventRecord, TicketRecord

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_OFFSET = 1_000_000
"""Far beyond any real number of tickets; keeps OFFSET inside every database's integers."""
ACTOR_LENGTH = 64
"""``ticket_events.actor`` is VARCHAR(64); token names may be longer."""

AGENCY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""Catalogue agency ids (``disdukcapil``); anything else cannot be a ticket's agency."""
_AGENCY = re.compile(AGENCY_PATTERN)
_NUMBER = re.compile(r"[0-9]{1,7}")
_TICKET_ID = re.compile(r"CARE-?[0-9]{8}-?[0-9]{1,4}", re.IGNORECASE)
_STATUSES = [s.value for s in TicketStatus]


# --- shapes -------------------------------------------------------------------------------------


def ticket_summary(ticket: TicketRecord, *, redacted: bool) -> shapes.TicketSummary:
    """A ticket without its history and attachments: one query per list.

    ``redacted``: the citizen's words and who they are are withheld (null, no
    ``contact_id``); what the ticket is (kind, status, agency, deadlines) stays, so a
    dashboard can still count and chase it.
    """
    return shapes.TicketSummary(
        id=ticket.ticket_id,
        kind=ticket.kind,
        status=ticket.status,
        category=None if redacted else ticket.category,
        service=ticket.service_id,
        agency=ticket.agency,
        description=None if redacted else ticket.description,
        incident_when=None if redacted else ticket.incident_when,
        incident_where=None if redacted else ticket.incident_where,
        anonymous=ticket.anonymous,
        confidential=ticket.confidential,
        redacted=redacted,
        channel=ticket.channel,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        sla_due_at=ticket.sla_due_at,
        sla_breached=ticket.sla_breached_at is not None,
        sla_breached_at=ticket.sla_breached_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        rating=ticket.rating,
        rating_comment=None if redacted else ticket.rating_comment,
        rated_at=ticket.rated_at,
        assigned_to=ticket.assigned_to,
        needs_supervisor=ticket.needs_supervisor,
        priority=ticket.priority,
        object=ticket.object,
        # An internal number only: the contact's phone or name never leaves through the API.
        contact_id=MISSING if ticket.anonymous or redacted else ticket.contact_id,
    )


def attachment_shape(attachment: AttachmentRecord) -> shapes.TicketAttachment:
    return shapes.TicketAttachment(
        content_type=attachment.content_type,
        url=attachment.url,
        filename=attachment.filename,
        caption=attachment.caption,
        size=attachment.size,
    )


def event_shape(event: EventRecord, *, redacted: bool) -> shapes.TicketEvent:
    return shapes.TicketEvent(
        at=event.at,
        actor=event.actor,
        kind=event.kind,
        from_status=event.from_status,
        to_status=event.to_status,
        note=None if redacted else event.note,
    )


def ticket_detail(detail: TicketDetail, *, redacted: bool) -> shapes.Ticket:
    """A ticket with its attachments and history, oldest event first."""
    return shapes.Ticket(
        **dict(ticket_summary(detail.ticket, redacted=redacted)),
        attachments=None if redacted else [attachment_shape(a) for a in detail.attachments],
        history=[event_shape(e, redacted=redacted) for e in detail.history],
    )


def withheld(request: web.Request, ticket: TicketRecord) -> bool:
    """Whether this caller gets the ticket redacted: confidential, and no scope to read it."""
    return ticket.confidential and Scope.TICKETS_READ_CONFIDENTIAL not in request[API_SCOPES]


# --- parameters ---------------------------------------------------------------------------------


def _care(request: web.Request) -> CareService:
    care = request.app[API].care
    if care is None:
        raise api_error(503, "care_unavailable", "CARE tickets are not set up in this hub")
    return care


def _actor(request: web.Request) -> Actor:
    """The calling system, named after its token in the ticket's history."""
    return Actor(f"api:{request[API_CALLER]}"[:ACTOR_LENGTH], ActorRole.SYSTEM)


def _query_statuses(request: web.Request) -> list[str]:
    """``status`` repeated (``status=a&status=b``) or comma-separated (``status=a,b``)."""
    statuses: list[str] = []
    for value in request.query.getall("status", []):
        for part in value.split(","):
            name = part.strip()
            if name not in _STATUSES:
                raise bad_request(f"unknown status {name!r}; use one of: {', '.join(_STATUSES)}")
            if name not in statuses:
                statuses.append(name)
    return statuses


def _query_choice(request: web.Request, name: str, choices: list[str]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise bad_request(f"'{name}' must be one of {', '.join(choices)}, not {value!r}")
    return value


def _query_number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not _NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise bad_request(f"'{name}' must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


def _query_agency(request: web.Request) -> str | None:
    agency = request.query.get("agency")
    if agency is not None and not _AGENCY.fullmatch(agency):
        raise bad_request(f"'agency' must be an agency id such as 'disdukcapil', not {agency!r}")
    return agency


def _conflict(ticket: TicketRecord, message: str) -> ApiError:
    """409 with what the ticket is now and where it may go, so a client can offer those."""
    current = TicketStatus(ticket.status)
    return ApiError(
        409,
        shapes.TransitionError(
            error=shapes.TransitionErrorDetail(
                code="illegal_transition",
                message=message,
                status=current.value,
                allowed=[s.value for s in TicketStatus if s in allowed_next(current)],
            )
        ),
    )


# --- handlers -----------------------------------------------------------------------------------


async def list_tickets(request: web.Request) -> web.Response:
    care = _care(request)
    statuses = _query_statuses(request)
    kind = _query_choice(request, "kind", [k.value for k in TicketKind])
    breached = _query_choice(request, "breached", ["true", "false"])
    agency = _query_agency(request)
    limit = _query_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _query_number(request, "offset", 0, 0, MAX_OFFSET)
    found = await care.search(
        _actor(request),
        statuses=statuses,
        kind=kind,
        agency=agency,
        breached=None if breached is None else breached == "true",
        limit=limit,
        offset=offset,
    )
    items = [ticket_summary(t, redacted=withheld(request, t)) for t in found]
    return answer(shapes.TicketList(items=items))


async def _visible(care: CareService, actor: Actor, ticket_id: str) -> TicketDetail:
    """The ticket by its id in any case, dashes optional; 404 for anything else."""
    try:
        if not _TICKET_ID.fullmatch(ticket_id):
            raise TicketNotFound(ticket_id)
        return await care.visible(actor, ticket_id)
    except TicketNotFound:
        raise not_found(f"no ticket with id {ticket_id!r}") from None


async def get_ticket(request: web.Request) -> web.Response:
    care = _care(request)
    detail = await _visible(care, _actor(request), request.match_info["id"])
    return answer(ticket_detail(detail, redacted=withheld(request, detail.ticket)))


async def change_status(request: web.Request) -> web.Response:
    """The body is read before the ticket: a wrong one is a 400 whatever the ticket's state."""
    care = _care(request)
    actor = _actor(request)
    change = await read_body(request, shapes.StatusChange)
    ticket_id = request.match_info["id"]
    detail = await _visible(care, actor, ticket_id)
    try:
        await care.change_status(detail.ticket.ticket_id, change.status, actor, change.note)
    except IllegalTransition as error:
        # Read again: a concurrent move is also refused this way, and the answer should
        # show the status the ticket has now, not the one this request started from.
        current = await _visible(care, actor, ticket_id)
        raise _conflict(current.ticket, str(error)) from None
    except NotAllowed as error:
        raise api_error(403, "forbidden", str(error)) from None
    except TicketNotFound:
        raise not_found(f"no ticket with id {ticket_id!r}") from None
    updated = await _visible(care, actor, ticket_id)
    return answer(ticket_detail(updated, redacted=withheld(request, updated.ticket)))

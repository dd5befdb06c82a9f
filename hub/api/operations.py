"""The route table of ``/api/v1``: one entry per operation, with all that is said about it.

Each ``Operation`` is both what ``hub.api.api_app`` registers and what
``hub.api.openapi`` documents, so the document lists exactly the app's routes. The
scope an operation needs lives here too (``ROUTE_SCOPES`` is read from the table): the
auth middleware refuses a route that is not in it to every token (fail closed).
Request and answer bodies are the models of ``hub.api.shapes``; query parameters are
checked by the handlers and described here. An operation needs one scope, or (``also``)
any one of a few: reading announcements is for the drafting and the approving system.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from hub.api import announcement_routes, booking_routes, shapes, ticket_routes
from hub.api.scopes import Scope
from hub.care.service import TicketKind
from hub.care.status import TicketStatus
from hub.catalogue import Catalogue

PREFIX = "/api/v1"
"""Where the API's application is mounted; every path below starts with it."""
OPENAPI_PATH = PREFIX + "/openapi.json"
"""The one public route: the document, so a client can be checked before it has a token."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer an operation documents, besides 401, 403 (scope) and 500 that all give."""

    status: int
    response: str
    """The component response that describes it (``hub.api.openapi``)."""


BAD_REQUEST = Failure(400, "BadRequest")
FORBIDDEN = Failure(403, "Forbidden")
"""A scope missing, or the CARE rules refusing the move: replaces the plain 403."""
NOT_FOUND = Failure(404, "NotFound")
CONFLICT = Failure(409, "Conflict")
TICKET_CONFLICT = Failure(409, "TicketConflict")
CARE_UNAVAILABLE = Failure(503, "CareUnavailable")
ANNOUNCEMENT_CONFLICT = Failure(409, "AnnouncementConflict")
ANNOUNCEMENTS_UNAVAILABLE = Failure(503, "AnnouncementsUnavailable")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    where: Literal["path", "query"]
    schema: Schema | Callable[[Catalogue], Schema]
    """A callable for a schema that follows the catalogue (its service ids)."""
    description: str
    required: bool = False
    """Path parameters are always required."""
    repeated: bool = False
    """An array given by repeating the name (``status=a&status=b``)."""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    operation_id: str
    summary: str
    scope: Scope
    """The scope a 403 names (and the one ``ROUTE_SCOPES`` gives)."""
    answer: type[BaseModel]
    answer_description: str
    failures: tuple[Failure, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    body: type[shapes.RequestShape] | None = None
    status: int = 200
    """The status of a success (201 for what it creates)."""
    also: tuple[Scope, ...] = ()
    """Other scopes that each allow it too, instead of ``scope``."""

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """Every scope that allows it, ``scope`` first."""
        return (self.scope, *self.also)


_TEXT: Schema = {"type": "string", "minLength": 1}
_DAY: Schema = {
    "type": "string",
    "format": "date",
    "description": "A WITA calendar day, YYYY-MM-DD.",
}
_TICKET_STATUS: Schema = {"type": "string", "enum": [s.value for s in TicketStatus]}


def _service_ids(catalogue: Catalogue) -> Schema:
    """The server answers 400 to any other service, so the document follows a reload."""
    return {"type": "string", "enum": list(catalogue.services)}


SERVICE_ID = Parameter("id", "path", _TEXT, "A service id, as in GET /api/v1/services.")
SERVICE = Parameter("service", "query", _service_ids, "A service id, as in GET /api/v1/services.")
DAY = Parameter("date", "query", _DAY, "A WITA day, YYYY-MM-DD.", required=True)
CODE = Parameter("code", "path", _TEXT, 'A booking code, e.g. "B-7Q4M2X" (case and dash optional).')
TICKET_ID = Parameter(
    "id", "path", _TEXT, 'A ticket id, e.g. "CARE-20261214-0001" (case and dashes optional).'
)
ANNOUNCEMENT_ID = Parameter(
    "id",
    "path",
    {"type": "integer", "minimum": 1, "maximum": announcement_routes.MAX_ID},
    "An announcement's id, as answered when it was drafted.",
)
ANNOUNCEMENT_LIMIT = Parameter(
    "limit",
    "query",
    {
        "type": "integer",
        "minimum": 1,
        "maximum": announcement_routes.MAX_LIMIT,
        "default": announcement_routes.DEFAULT_LIMIT,
    },
    "At most this many, newest first.",
)
TICKET_FILTERS = (
    Parameter(
        "status",
        "query",
        {"type": "array", "items": _TICKET_STATUS},
        "Only these statuses: repeated (status=received&status=verified) or "
        "comma-separated (status=received,verified).",
        repeated=True,
    ),
    Parameter(
        "agency",
        "query",
        {"type": "string", "pattern": ticket_routes.AGENCY_PATTERN},
        "Only this agency's tickets (an agency id, as in a service's agency.id).",
    ),
    Parameter(
        "kind",
        "query",
        {"type": "string", "enum": [k.value for k in TicketKind]},
        "Only complaints or only appreciations.",
    ),
    Parameter(
        "breached",
        "query",
        {"type": "boolean"},
        "true: only tickets whose current deadline was breached; false: only the others.",
    ),
    Parameter(
        "limit",
        "query",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": ticket_routes.MAX_LIMIT,
            "default": ticket_routes.DEFAULT_LIMIT,
        },
        "At most this many tickets.",
    ),
    Parameter(
        "offset",
        "query",
        {"type": "integer", "minimum": 0, "maximum": ticket_routes.MAX_OFFSET, "default": 0},
        "Skip this many (for the next page).",
    ),
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        PREFIX + "/services",
        booking_routes.list_services,
        "listServices",
        "Every service of the mall.",
        scope=Scope.SERVICES_READ,
        answer=shapes.ServiceList,
        answer_description="The services.",
    ),
    Operation(
        "GET",
        PREFIX + "/services/{id}",
        booking_routes.get_service,
        "getService",
        "One service.",
        scope=Scope.SERVICES_READ,
        answer=shapes.Service,
        answer_description="The service.",
        failures=(NOT_FOUND,),
        parameters=(SERVICE_ID,),
    ),
    Operation(
        "GET",
        PREFIX + "/slots",
        booking_routes.list_slots,
        "listSlots",
        "The sessions of a service on a day, with capacity and free places.",
        scope=Scope.SERVICES_READ,
        answer=shapes.SlotList,
        answer_description="The sessions; empty on a closed day.",
        failures=(BAD_REQUEST,),
        parameters=(replace(SERVICE, required=True), DAY),
    ),
    Operation(
        "GET",
        PREFIX + "/bookings",
        booking_routes.list_bookings,
        "listBookings",
        "The bookings of a day, optionally of one service.",
        scope=Scope.BOOKINGS_READ,
        answer=shapes.BookingList,
        answer_description="The bookings, in queue order per service.",
        failures=(BAD_REQUEST,),
        parameters=(DAY, SERVICE),
    ),
    Operation(
        "GET",
        PREFIX + "/bookings/{code}",
        booking_routes.get_booking,
        "getBooking",
        "One booking.",
        scope=Scope.BOOKINGS_READ,
        answer=shapes.Booking,
        answer_description="The booking.",
        failures=(NOT_FOUND,),
        parameters=(CODE,),
    ),
    Operation(
        "POST",
        PREFIX + "/bookings/{code}/check-in",
        booking_routes.check_in,
        "checkInBooking",
        "The citizen has arrived: only a booked booking, only on its day.",
        scope=Scope.BOOKINGS_WRITE,
        answer=shapes.Booking,
        answer_description="The booking, now checked_in.",
        failures=(NOT_FOUND, CONFLICT),
        parameters=(CODE,),
    ),
    Operation(
        "POST",
        PREFIX + "/bookings/{code}/cancel",
        booking_routes.cancel,
        "cancelBooking",
        "Cancel a booked booking of today or later; its place is freed.",
        scope=Scope.BOOKINGS_WRITE,
        answer=shapes.Booking,
        answer_description="The booking, now cancelled.",
        failures=(NOT_FOUND, CONFLICT),
        parameters=(CODE,),
    ),
    Operation(
        "POST",
        PREFIX + "/bookings/lookup",
        booking_routes.lookup_bookings,
        "lookupBookingsByNik",
        "Check-in by KTP: today's (WITA) bookings whose applicant has this NIK.",
        scope=Scope.BOOKINGS_APPLICANT,
        answer=shapes.BookingLookup,
        answer_description="Today's bookings of that applicant (none is an empty list).",
        failures=(BAD_REQUEST,),
        body=shapes.NikLookup,
    ),
    Operation(
        "GET",
        PREFIX + "/tickets",
        ticket_routes.list_tickets,
        "listTickets",
        "CARE tickets, newest first, optionally filtered.",
        scope=Scope.TICKETS_READ,
        answer=shapes.TicketList,
        answer_description="The tickets, without attachments and history.",
        failures=(BAD_REQUEST, CARE_UNAVAILABLE),
        parameters=TICKET_FILTERS,
    ),
    Operation(
        "GET",
        PREFIX + "/tickets/{id}",
        ticket_routes.get_ticket,
        "getTicket",
        "One CARE ticket with its attachments and history.",
        scope=Scope.TICKETS_READ,
        answer=shapes.Ticket,
        answer_description="The ticket.",
        failures=(NOT_FOUND, CARE_UNAVAILABLE),
        parameters=(TICKET_ID,),
    ),
    Operation(
        "POST",
        PREFIX + "/tickets/{id}/status",
        ticket_routes.change_status,
        "changeTicketStatus",
        "Move a ticket to another status, as the CARE procedure allows; the citizen is told.",
        scope=Scope.TICKETS_WRITE,
        answer=shapes.Ticket,
        answer_description="The ticket with its new status and history.",
        failures=(BAD_REQUEST, FORBIDDEN, NOT_FOUND, TICKET_CONFLICT, CARE_UNAVAILABLE),
        parameters=(TICKET_ID,),
        body=shapes.StatusChange,
    ),
    Operation(
        "POST",
        PREFIX + "/announcements",
        announcement_routes.create_announcement,
        "createAnnouncement",
        "Draft an announcement to topics' subscribers, or to the citizens booked for a "
        "service or agency on a day; nothing is sent before it is approved.",
        scope=Scope.ANNOUNCEMENTS_WRITE,
        answer=shapes.Announcement,
        answer_description="The draft (status draft).",
        failures=(BAD_REQUEST, ANNOUNCEMENTS_UNAVAILABLE),
        body=shapes.AnnouncementDraft,
        status=201,
    ),
    Operation(
        "POST",
        PREFIX + "/announcements/{id}/approve",
        announcement_routes.approve_announcement,
        "approveAnnouncement",
        "Approve a draft: it is sent now, or scheduled when its send_at is ahead.",
        scope=Scope.ANNOUNCEMENTS_APPROVE,
        answer=shapes.Announcement,
        answer_description="The announcement, now sending or scheduled.",
        failures=(NOT_FOUND, ANNOUNCEMENT_CONFLICT, ANNOUNCEMENTS_UNAVAILABLE),
        parameters=(ANNOUNCEMENT_ID,),
    ),
    Operation(
        "GET",
        PREFIX + "/announcements",
        announcement_routes.list_announcements,
        "listAnnouncements",
        "Announcements, newest first, with their delivery counts.",
        scope=Scope.ANNOUNCEMENTS_WRITE,
        also=(Scope.ANNOUNCEMENTS_APPROVE,),
        answer=shapes.AnnouncementList,
        answer_description="The announcements.",
        failures=(BAD_REQUEST, ANNOUNCEMENTS_UNAVAILABLE),
        parameters=(ANNOUNCEMENT_LIMIT,),
    ),
    Operation(
        "GET",
        PREFIX + "/announcements/{id}",
        announcement_routes.get_announcement,
        "getAnnouncement",
        "One announcement with its status and delivery counts.",
        scope=Scope.ANNOUNCEMENTS_WRITE,
        also=(Scope.ANNOUNCEMENTS_APPROVE,),
        answer=shapes.Announcement,
        answer_description="The announcement.",
        failures=(NOT_FOUND, ANNOUNCEMENTS_UNAVAILABLE),
        parameters=(ANNOUNCEMENT_ID,),
    ),
)

ROUTE_SCOPES: Mapping[tuple[str, str], Scope] = {
    (operation.method, operation.path): operation.scope for operation in OPERATIONS
}
"""The scope each route needs, by method and path template (``HEAD`` as ``GET``)."""
ROUTE_ALLOWED: Mapping[tuple[str, str], frozenset[Scope]] = {
    (operation.method, operation.path): frozenset(operation.scopes) for operation in OPERATIONS
}
"""Every scope that allows each route: its scope, or for a few another one instead."""


def required_scope(method: str, template: str) -> Scope | None:
    """The scope a route needs; None for a route nobody declared (refused to all)."""
    return ROUTE_SCOPES.get(("GET" if method == "HEAD" else method, template))


def allowing_scopes(method: str, template: str) -> frozenset[Scope]:
    """The scopes of which a token needs one for this route; none for an undeclared one."""
    return ROUTE_ALLOWED.get(("GET" if method == "HEAD" else method, template), frozenset())

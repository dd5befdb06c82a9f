"""The OpenAPI 3.1 document of ``/api/v1``, built in code next to the handlers it describes.

Built afresh on each call (it is small), so no module-level dict can be changed by
one caller under another. ``tests/test_api.py`` checks every response of the test
suite against it and every route of the app against its paths.
"""

from __future__ import annotations

from typing import Any

from hub.api.scopes import DESCRIPTIONS, LEGACY_SCOPES, Scope, required_scope
from hub.api.tickets import AGENCY_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, MAX_NOTE, MAX_OFFSET
from hub.care.service import TicketKind
from hub.care.status import TicketStatus
from hub.catalogue import Catalogue
from hub.store.bookings import BookingStatus

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _obj(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _list_of(item: str, description: str, **extra: Any) -> dict[str, Any]:
    return _obj({**extra, "items": {"type": "array", "items": _ref(item)}}, description)


_STRING = {"type": "string"}
_TEXT = {"type": "string", "minLength": 1}
_COUNT = {"type": "integer", "minimum": 0}
_HHMM = {"type": "string", "pattern": r"^\d{2}:\d{2}$", "examples": ["08:00"]}
_DAY = {"type": "string", "format": "date", "description": "A WITA calendar day, YYYY-MM-DD."}
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."}
_STATUSES = [s.value for s in TicketStatus]
_TICKET_STATUS = {"type": "string", "enum": _STATUSES}


def _nullable(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """``schema`` or null; an ``enum`` gets null as one more value."""
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    if description:
        nullable["description"] = description
    return nullable


def _with_applicant(booking: dict[str, Any]) -> dict[str, Any]:
    """The booking schema with ``applicant``: present only for ``bookings:applicant``."""
    booking["properties"]["applicant"] = {
        "anyOf": [_ref("BookingApplicant"), {"type": "null"}],
        "description": "Who comes to the counter; only for a token with bookings:applicant "
        "(absent otherwise), null for a booking that names none.",
    }
    return booking


def _ticket_schemas() -> dict[str, Any]:
    """CARE tickets as ``hub.api.tickets`` writes them."""
    summary = _obj(
        {
            "id": {
                "type": "string",
                "pattern": r"^CARE-\d{8}-\d{4}$",
                "examples": ["CARE-20261214-0001"],
                "description": "CARE-YYYYMMDD-NNNN: the WITA day it was filed, that day's number.",
            },
            "kind": {"type": "string", "enum": [k.value for k in TicketKind]},
            "status": _TICKET_STATUS,
            "category": _nullable(
                _STRING, "What it is about, maybe in the citizen's words; may be empty."
            ),
            "service": _nullable(_STRING, "The catalogue id of the service it is about, or null."),
            "agency": _nullable(_STRING, "The agency id it belongs to, or null if not yet known."),
            "description": _nullable(_STRING, "The citizen's own words."),
            "incident_when": _nullable(_STRING, "When it happened, as told; may be empty."),
            "incident_where": _nullable(_STRING, "Where it happened; may be empty."),
            "anonymous": {
                "type": "boolean",
                "description": "The citizen asked not to be named: then there is no contact_id.",
            },
            "confidential": {
                "type": "boolean",
                "description": "Only supervisors handle it; officers cannot move it. Its "
                "text and reporter reach only a token with tickets:read-confidential.",
            },
            "redacted": {
                "type": "boolean",
                "description": "The text and reporter of this confidential ticket are "
                "withheld from this token (no tickets:read-confidential): category, "
                "description, incident_when, incident_where, rating_comment, attachments "
                "and the history's notes are null, and there is no contact_id.",
            },
            "channel": {**_TEXT, "description": "Where it was filed: whatsapp, telegram, sms, ..."},
            "created_at": _TIME,
            "updated_at": _TIME,
            "sla_due_at": _nullable(
                _TIME,
                "The deadline of the current stage (verify, resolve, or the automatic close "
                "of a resolved ticket); null once closed or rejected.",
            ),
            "sla_breached": {
                "type": "boolean",
                "description": "The current stage's deadline has passed, as marked by the "
                "hub's periodic deadline check (sla_breached_at is set).",
            },
            "sla_breached_at": _nullable(_TIME, "When the deadline check marked the breach."),
            "resolved_at": _nullable(_TIME),
            "closed_at": _nullable(_TIME, "When it was closed or rejected."),
            "rating": _nullable({"type": "integer", "minimum": 1, "maximum": 5}),
            "rating_comment": _nullable(_STRING, "Null when not rated or when redacted."),
            "rated_at": _nullable(_TIME),
            "assigned_to": _nullable(
                {"type": "integer"}, "The id of the officer working on it, or null."
            ),
            "needs_supervisor": {
                "type": "boolean",
                "description": "Escalated: a breached deadline, a low rating, or the "
                "citizen's request once the deadline passed.",
            },
            "priority": {
                "type": "string",
                "enum": ["high", "normal"],
                "description": "high for a bribery report (pungli, suap, calo), handled first "
                "with shorter deadlines (care.priority_*_within_days); else normal.",
            },
            "object": _nullable(
                {"type": "string", "enum": ["facility", "counter", "officer", "service"]},
                "What the complaint is about, as classified from the citizen's words; "
                "null when they named none.",
            ),
            "contact_id": {
                "type": "integer",
                "description": "The hub's internal number of who filed it, to group a "
                "citizen's tickets; only when neither anonymous nor redacted. No phone "
                "number, name or address is ever sent.",
            },
        },
        "A CARE ticket without its attachments and history.",
    )
    summary["required"].remove("contact_id")
    withheld = ("category", "description", "incident_when", "incident_where", "rating_comment")
    summary["allOf"] = [
        {
            "if": {"properties": {"anonymous": {"const": True}}},
            "then": {"not": {"required": ["contact_id"]}},
        },
        {
            "if": {"properties": {"redacted": {"const": True}}},
            "then": {
                "properties": {
                    "confidential": {"const": True},
                    **{name: {"type": "null"} for name in withheld},
                },
                "not": {"required": ["contact_id"]},
            },
            "else": {
                "properties": {
                    name: {"type": "string"} for name in withheld if name != "rating_comment"
                }
            },
        },
        {
            "if": {"properties": {"anonymous": {"const": False}, "redacted": {"const": False}}},
            "then": {"required": ["contact_id"]},
        },
    ]
    attachment = _obj(
        {
            "content_type": {**_TEXT, "examples": ["image/jpeg"]},
            "url": {
                **_STRING,
                "description": "Where the channel keeps the file: a URL or a channel "
                "reference such as telegram-file:<id>; fetching it may need that "
                "channel's credentials.",
            },
            "filename": _STRING,
            "caption": _STRING,
            "size": _nullable({"type": "integer", "minimum": 0}, "Bytes, when known."),
        },
        "A file the citizen sent with the ticket.",
    )
    event = _obj(
        {
            "at": _TIME,
            "actor": {
                **_TEXT,
                "description": "citizen, bot, system, officer:<id>, or api:<token name> "
                "for a change made through this API.",
            },
            "kind": {**_TEXT, "description": "status, note, assign, rating or sla_breach."},
            "from_status": _nullable(_TICKET_STATUS),
            "to_status": _nullable(_TICKET_STATUS),
            "note": _nullable(
                _STRING, "A reason or a note; may be empty; null when the ticket is redacted."
            ),
        },
        "One entry of a ticket's history.",
    )
    ticket = {
        **summary,
        "allOf": [
            *summary["allOf"],
            {
                "if": {"properties": {"redacted": {"const": True}}},
                "then": {
                    "properties": {
                        "attachments": {"type": "null"},
                        "history": {"items": {"properties": {"note": {"type": "null"}}}},
                    }
                },
                "else": {"properties": {"attachments": {"type": "array"}}},
            },
        ],
        "properties": {
            **summary["properties"],
            "attachments": {
                "type": ["array", "null"],
                "items": _ref("TicketAttachment"),
                "description": "Null when redacted.",
            },
            "history": {
                "type": "array",
                "items": _ref("TicketEvent"),
                "description": "Oldest first; starts with the citizen filing it (received).",
            },
        },
        "required": [*summary["required"], "attachments", "history"],
        "description": "A CARE ticket with its attachments and history.",
    }
    note = {
        "type": "string",
        "maxLength": MAX_NOTE,
        "pattern": "^[^\\u0000]*$",
        "description": "Why; goes into the history. Required (not blank) for rejected: "
        "the citizen is told the reason.",
    }
    change = {
        "type": "object",
        "properties": {"status": _TICKET_STATUS, "note": note},
        "required": ["status"],
        "additionalProperties": False,
        "if": {"properties": {"status": {"const": "rejected"}}, "required": ["status"]},
        "then": {"required": ["note"], "properties": {"note": {"pattern": "\\S"}}},
        "description": "The status a ticket moves to. The CARE procedure allows: "
        "received -> verified or rejected; verified -> forwarded or rejected; "
        "forwarded -> in_progress; in_progress -> resolved; resolved -> closed or "
        "in_progress (reopened).",
    }
    conflict = _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "const": "illegal_transition"},
                    "message": {"type": "string", "description": "For people, in English."},
                    "status": {**_TICKET_STATUS, "description": "The ticket's status now."},
                    "allowed": {
                        "type": "array",
                        "items": _TICKET_STATUS,
                        "description": "The statuses it may move to now; empty once closed "
                        "or rejected.",
                    },
                }
            )
        },
        "A move the CARE procedure does not allow from the ticket's current status.",
    )
    return {
        "TicketSummary": summary,
        "Ticket": ticket,
        "TicketAttachment": attachment,
        "TicketEvent": event,
        "TicketList": _list_of(
            "TicketSummary", "Tickets, newest first; without attachments and history."
        ),
        "StatusChange": change,
        "TransitionError": conflict,
    }


def _schemas() -> dict[str, Any]:
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": {
                            "type": "string",
                            "description": (
                                "Machine-readable: unauthorized, bad_request, forbidden, "
                                "not_found, method_not_allowed, status_conflict, wrong_day, "
                                "booking_past, internal_error, care_unavailable "
                                "(insufficient_scope has its own shape, ScopeError)."
                            ),
                        },
                        "message": {"type": "string", "description": "For people, in English."},
                    }
                )
            },
            "Every error of the API has this shape, except a missing scope (ScopeError).",
        ),
        "ScopeError": _obj(
            {
                "error": _obj(
                    {
                        "code": {"type": "string", "const": "insufficient_scope"},
                        "message": {"type": "string", "description": "For people, in English."},
                        "scope": {
                            "type": ["string", "null"],
                            "enum": [*(s.value for s in Scope), None],
                            "description": "The scope the route needs and the token lacks.",
                        },
                    }
                )
            },
            "The token is valid but lacks the scope this operation needs.",
        ),
        "Agency": _obj({"id": _TEXT, "name": _TEXT, "short": _TEXT}),
        "Service": _obj(
            {
                "id": {**_TEXT, "examples": ["ktp_el_baru"]},
                "name_id": _TEXT,
                "name_en": _TEXT,
                "short_id": {**_TEXT, "description": "Short enough for a button or a display."},
                "short_en": _TEXT,
                "agency": _ref("Agency"),
                "counter": _TEXT,
                "queue_prefix": {
                    "type": "string",
                    "description": 'Its queue numbers\' letter ("A" in "A-012"); may be empty.',
                },
                "requirements": {"type": "array", "items": _TEXT},
                "fee": _TEXT,
                "duration_minutes": {"type": "integer", "minimum": 1},
                "completion_time": _STRING,
                "daily_quota": {"type": "integer", "minimum": 1},
                "hours": {
                    "type": "object",
                    "additionalProperties": _STRING,
                    "description": "Opening hours by weekday key (mon_thu, fri, ...): "
                    '"08:00-15:00" or "closed", WITA.',
                },
            },
            "A service of the mall, from the catalogue (services.yaml).",
        ),
        "ServiceList": _list_of("Service", "Every service of the catalogue."),
        "Slot": _obj(
            {
                "session": {**_TEXT, "examples": ["pagi"]},
                "start": {**_HHMM, "description": "WITA."},
                "end": {**_HHMM, "description": "WITA."},
                "capacity": _COUNT,
                "taken": _COUNT,
                "free": {**_COUNT, "description": "capacity - taken, never below 0."},
                "bookable": {
                    "type": "boolean",
                    "description": "Free places left, the day open for booking now, "
                    "and the session not yet over.",
                },
            },
            "One session of a service on a day.",
        ),
        "SlotList": _list_of(
            "Slot",
            "The sessions of a day; empty when the service is closed that day.",
            service=_TEXT,
            date=_DAY,
        ),
        "Booking": _with_applicant(
            _obj(
                {
                    "code": {
                        "type": "string",
                        "pattern": "^B-[A-Z2-9]{6}$",
                        "examples": ["B-7Q4M2X"],
                    },
                    "service": {**_TEXT, "description": "The catalogue id of the service."},
                    "service_name": {
                        "type": ["string", "null"],
                        "description": "Its Indonesian name; null if it left the catalogue.",
                    },
                    "date": _DAY,
                    "session": _TEXT,
                    "session_start": {**_HHMM, "type": ["string", "null"]},
                    "session_end": {**_HHMM, "type": ["string", "null"]},
                    "queue_number": {"type": "integer", "minimum": 1},
                    "queue_label": {**_TEXT, "examples": ["A-012"]},
                    "counter": _STRING,
                    "status": {"type": "string", "enum": [s.value for s in BookingStatus]},
                    "channel": {
                        **_TEXT,
                        "description": "Where it was made: whatsapp, telegram, sms, webchat, ...",
                    },
                    "created_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "ISO 8601, UTC.",
                    },
                },
                "A queue booking. Who made it (phone, name, address) is never shown.",
            )
        ),
        "BookingApplicant": _obj(
            {
                "name": {**_TEXT, "description": "As the citizen gave it for the booking."},
                "nik": {
                    "type": ["string", "null"],
                    "pattern": "^[0-9]{4}•{8}[0-9]{4}$|^•{16}$",
                    "examples": ["5103••••••••0001"],
                    "description": "The NIK masked: first and last four digits; null when "
                    "the service asked for no NIK; all bullets when no configured key opens it.",
                },
            },
            "Who comes to the counter: the citizen or someone they booked for.",
        ),
        "BookingList": _list_of("Booking", "Bookings in queue order, per service."),
        "BookingLookup": _list_of(
            "Booking", "Today's bookings of the applicant with that NIK.", date=_DAY
        ),
        "NikLookup": _obj(
            {
                "nik": {
                    "type": "string",
                    "pattern": r"^[ .\-]*(?:[0-9][ .\-]*){16}$",
                    "examples": ["5103011204850001", "5103 0112 0485 0001"],
                    "description": "The NIK on the KTP: 16 digits, spaces, dots or dashes "
                    "between groups allowed. Never echoed back, not even in an error.",
                }
            },
            "The NIK to look for, in the body so that it stays out of access logs.",
        ),
        **_ticket_schemas(),
    }


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _error(
            "A query parameter or the request body is missing or wrong (date, unknown "
            "service, unknown ticket status, a rejection without a note)."
        ),
        "Unauthorized": {
            **_error("No token, or an unknown or revoked one."),
            "headers": {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            },
        },
        "NotFound": _error("No such service, booking or ticket."),
        "Conflict": _error(
            "The booking's state forbids it: not booked any more (cancelled, checked in, "
            "served, no-show), check-in not on the booked day, or a day that has passed."
        ),
        "InternalError": _error("The hub failed; nothing about why is sent."),
        "InsufficientScope": {
            "description": "The token lacks the scope this operation needs (its security "
            "requirement); the body names it. Make a token with that --scope.",
            "content": {JSON: {"schema": _ref("ScopeError")}},
            "headers": {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "description": 'Bearer error="insufficient_scope", scope="..."',
                }
            },
        },
        "Forbidden": {
            "description": "The token lacks the scope this operation needs "
            "(insufficient_scope), or the CARE rules do not let this caller make the move "
            "(forbidden; API callers act as the system, which may make every move the "
            "procedure allows).",
            "content": {JSON: {"schema": {"oneOf": [_ref("ScopeError"), _ref("Error")]}}},
        },
        "TicketConflict": {
            "description": "The CARE procedure does not allow this move from the ticket's "
            "current status (or another change came first); the body says the status now "
            "and the moves allowed from it.",
            "content": {JSON: {"schema": _ref("TransitionError")}},
        },
        "CareUnavailable": _error("This hub process runs without CARE tickets."),
    }


def _parameter(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


def _operation(
    route: tuple[str, str],
    operation_id: str,
    summary: str,
    ok: dict[str, Any],
    errors: tuple[str, ...],
    parameters: list[dict[str, Any]] | None = None,
    named: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The operation of ``route`` (method, path), with the scope ``hub.api.scopes`` gives it.

    ``named`` picks another component response for a status: ``{"409": "TicketConflict"}``.
    Every operation may answer 403 for a token without its scope.
    """
    scope = required_scope(*route)
    if scope is None:
        raise ValueError(f"{route} declares no scope in hub.api.scopes.ROUTE_SCOPES")
    codes = {
        "400": "BadRequest",
        "403": "Forbidden",
        "404": "NotFound",
        "409": "Conflict",
        "503": "CareUnavailable",
    } | (named or {})
    responses: dict[str, Any] = {
        "200": ok,
        "401": _response_ref("Unauthorized"),
        "403": _response_ref("InsufficientScope"),
    }
    for status in errors:
        responses[status] = _response_ref(codes[status])
    responses["500"] = _response_ref("InternalError")
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": f"Needs the scope `{scope.value}`: {DESCRIPTIONS[scope]}.",
        "security": [{"bearerAuth": [scope.value]}],
        "x-scope": scope.value,
        "responses": dict(sorted(responses.items())),
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def _lookup_operation() -> dict[str, Any]:
    operation = _operation(
        ("POST", "/api/v1/bookings/lookup"),
        "lookupBookingsByNik",
        "Check-in by KTP: today's (WITA) bookings whose applicant has this NIK.",
        _ok("Today's bookings of that applicant (none is an empty list).", "BookingLookup"),
        ("400",),
    )
    operation["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref("NikLookup")}}}
    return operation


def _ticket_paths() -> dict[str, Any]:
    ticket_id = _parameter(
        "id", "path", _TEXT, 'A ticket id, e.g. "CARE-20261214-0001" (case and dashes optional).'
    )
    filters = [
        {
            **_parameter(
                "status",
                "query",
                {"type": "array", "items": _TICKET_STATUS},
                "Only these statuses: repeated (status=received&status=verified) or "
                "comma-separated (status=received,verified).",
            ),
            "style": "form",
            "explode": True,
        },
        _parameter(
            "agency",
            "query",
            {"type": "string", "pattern": AGENCY_PATTERN},
            "Only this agency's tickets (an agency id, as in a service's agency.id).",
        ),
        _parameter(
            "kind",
            "query",
            {"type": "string", "enum": [k.value for k in TicketKind]},
            "Only complaints or only appreciations.",
        ),
        _parameter(
            "breached",
            "query",
            {"type": "boolean"},
            "true: only tickets whose current deadline was breached; false: only the others.",
        ),
        _parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "At most this many tickets.",
        ),
        _parameter(
            "offset",
            "query",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "Skip this many (for the next page).",
        ),
    ]
    status_change = _operation(
        ("POST", "/api/v1/tickets/{id}/status"),
        "changeTicketStatus",
        "Move a ticket to another status, as the CARE procedure allows; the citizen is told.",
        _ok("The ticket with its new status and history.", "Ticket"),
        ("400", "403", "404", "409", "503"),
        [ticket_id],
        {"409": "TicketConflict"},
    )
    status_change["requestBody"] = {
        "required": True,
        "content": {JSON: {"schema": _ref("StatusChange")}},
    }
    return {
        "/api/v1/tickets": {
            "get": _operation(
                ("GET", "/api/v1/tickets"),
                "listTickets",
                "CARE tickets, newest first, optionally filtered.",
                _ok("The tickets, without attachments and history.", "TicketList"),
                ("400", "503"),
                filters,
            )
        },
        "/api/v1/tickets/{id}": {
            "get": _operation(
                ("GET", "/api/v1/tickets/{id}"),
                "getTicket",
                "One CARE ticket with its attachments and history.",
                _ok("The ticket.", "Ticket"),
                ("404", "503"),
                [ticket_id],
            )
        },
        "/api/v1/tickets/{id}/status": {"post": status_change},
    }


def _scopes_text() -> str:
    """The bearer scheme's description: the scopes, and the default of older tokens."""
    rows = "\n".join(f"| `{s.value}` | {DESCRIPTIONS[s]} |" for s in Scope)
    legacy = ", ".join(f"`{s.value}`" for s in Scope if s in LEGACY_SCOPES)
    return (
        "A token from `omnihub token create NAME --scope SCOPE [--scope SCOPE ...]`. "
        "Each operation names the one scope it needs (its security requirement).\n\n"
        "| scope | allows |\n| --- | --- |\n"
        f"{rows}\n\n"
        f"A token made before scopes existed has {legacy}: everything but "
        "`tickets:read-confidential`."
    )


def document(catalogue: Catalogue) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, as served at ``GET /api/v1/openapi.json``.

    The ``service`` query parameter lists the catalogue's ids, because the server
    answers 400 to any other; so the document follows a catalogue reload.
    """
    service_id = _parameter("id", "path", _TEXT, "A service id, as in GET /api/v1/services.")
    code = _parameter(
        "code", "path", _TEXT, 'A booking code, e.g. "B-7Q4M2X" (case and dash optional).'
    )
    day = {**_parameter("date", "query", _DAY, "A WITA day, YYYY-MM-DD."), "required": True}
    service_query = _parameter(
        "service",
        "query",
        {"type": "string", "enum": list(catalogue.services)},
        "A service id, as in GET /api/v1/services.",
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "omnihub REST API",
            "version": "1.1.0",
            "description": (
                "For the MPP Badung's own systems (queue display, kiosk, other apps): the "
                "service catalogue, sessions with free places, and the day's bookings. "
                "Every route but this document needs `Authorization: Bearer <token>`, a "
                "token made with `omnihub token create NAME --scope SCOPE`, and the token "
                "needs the scope the operation names (else 403 `insufficient_scope`). "
                "Dates are WITA days. Also the CARE tickets (complaints and appreciations): "
                "list, read, move through the procedure. Tickets never carry a phone "
                "number, name or address; a confidential ticket's text and reporter only "
                "reach a token with `tickets:read-confidential` (else `redacted`)."
            ),
        },
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document (no token needed).",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {JSON: {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/api/v1/services": {
                "get": _operation(
                    ("GET", "/api/v1/services"),
                    "listServices",
                    "Every service of the mall.",
                    _ok("The services.", "ServiceList"),
                    (),
                )
            },
            "/api/v1/services/{id}": {
                "get": _operation(
                    ("GET", "/api/v1/services/{id}"),
                    "getService",
                    "One service.",
                    _ok("The service.", "Service"),
                    ("404",),
                    [service_id],
                )
            },
            "/api/v1/slots": {
                "get": _operation(
                    ("GET", "/api/v1/slots"),
                    "listSlots",
                    "The sessions of a service on a day, with capacity and free places.",
                    _ok("The sessions; empty on a closed day.", "SlotList"),
                    ("400",),
                    [{**service_query, "required": True}, day],
                )
            },
            "/api/v1/bookings": {
                "get": _operation(
                    ("GET", "/api/v1/bookings"),
                    "listBookings",
                    "The bookings of a day, optionally of one service.",
                    _ok("The bookings, in queue order per service.", "BookingList"),
                    ("400",),
                    [day, service_query],
                )
            },
            "/api/v1/bookings/{code}": {
                "get": _operation(
                    ("GET", "/api/v1/bookings/{code}"),
                    "getBooking",
                    "One booking.",
                    _ok("The booking.", "Booking"),
                    ("404",),
                    [code],
                )
            },
            "/api/v1/bookings/{code}/check-in": {
                "post": _operation(
                    ("POST", "/api/v1/bookings/{code}/check-in"),
                    "checkInBooking",
                    "The citizen has arrived: only a booked booking, only on its day.",
                    _ok("The booking, now checked_in.", "Booking"),
                    ("404", "409"),
                    [code],
                )
            },
            "/api/v1/bookings/lookup": {
                "post": _lookup_operation(),
            },
            "/api/v1/bookings/{code}/cancel": {
                "post": _operation(
                    ("POST", "/api/v1/bookings/{code}/cancel"),
                    "cancelBooking",
                    "Cancel a booked booking of today or later; its place is freed.",
                    _ok("The booking, now cancelled.", "Booking"),
                    ("404", "409"),
                    [code],
                )
            },
            **_ticket_paths(),
        },
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _scopes_text(),
                    "x-scopes": {s.value: DESCRIPTIONS[s] for s in Scope},
                }
            },
        },
    }

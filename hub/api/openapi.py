"""The OpenAPI 3.1 document of ``/api/v1``, built in code next to the handlers it describes.

Built afresh on each call (it is small), so no module-level dict can be changed by
one caller under another. ``tests/test_api.py`` checks every response of the test
suite against it and every route of the app against its paths.
"""

from __future__ import annotations

from typing import Any

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


def _schemas() -> dict[str, Any]:
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": {
                            "type": "string",
                            "description": (
                                "Machine-readable: unauthorized, bad_request, not_found, "
                                "method_not_allowed, status_conflict, wrong_day, booking_past, "
                                "internal_error."
                            ),
                        },
                        "message": {"type": "string", "description": "For people, in English."},
                    }
                )
            },
            "Every error of the API has this shape.",
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
        "Booking": _obj(
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
        ),
        "BookingList": _list_of("Booking", "Bookings in queue order, per service."),
    }


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _error("A query parameter is missing or wrong (date, unknown service)."),
        "Unauthorized": {
            **_error("No token, or an unknown or revoked one."),
            "headers": {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            },
        },
        "NotFound": _error("No such service or booking."),
        "Conflict": _error(
            "The booking's state forbids it: not booked any more (cancelled, checked in, "
            "served, no-show), check-in not on the booked day, or a day that has passed."
        ),
        "InternalError": _error("The hub failed; nothing about why is sent."),
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
    operation_id: str,
    summary: str,
    ok: dict[str, Any],
    errors: tuple[str, ...],
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    codes = {"400": "BadRequest", "404": "NotFound", "409": "Conflict"}
    responses: dict[str, Any] = {"200": ok, "401": _response_ref("Unauthorized")}
    for status in errors:
        responses[status] = _response_ref(codes[status])
    responses["500"] = _response_ref("InternalError")
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": dict(sorted(responses.items())),
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


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
            "version": "1.0.0",
            "description": (
                "For the MPP Badung's own systems (queue display, kiosk, other apps): the "
                "service catalogue, sessions with free places, and the day's bookings. "
                "Every route but this document needs `Authorization: Bearer <token>`, a "
                "token made with `omnihub token create NAME`. Dates are WITA days."
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
                    "listServices",
                    "Every service of the mall.",
                    _ok("The services.", "ServiceList"),
                    (),
                )
            },
            "/api/v1/services/{id}": {
                "get": _operation(
                    "getService",
                    "One service.",
                    _ok("The service.", "Service"),
                    ("404",),
                    [service_id],
                )
            },
            "/api/v1/slots": {
                "get": _operation(
                    "listSlots",
                    "The sessions of a service on a day, with capacity and free places.",
                    _ok("The sessions; empty on a closed day.", "SlotList"),
                    ("400",),
                    [{**service_query, "required": True}, day],
                )
            },
            "/api/v1/bookings": {
                "get": _operation(
                    "listBookings",
                    "The bookings of a day, optionally of one service.",
                    _ok("The bookings, in queue order per service.", "BookingList"),
                    ("400",),
                    [day, service_query],
                )
            },
            "/api/v1/bookings/{code}": {
                "get": _operation(
                    "getBooking", "One booking.", _ok("The booking.", "Booking"), ("404",), [code]
                )
            },
            "/api/v1/bookings/{code}/check-in": {
                "post": _operation(
                    "checkInBooking",
                    "The citizen has arrived: only a booked booking, only on its day.",
                    _ok("The booking, now checked_in.", "Booking"),
                    ("404", "409"),
                    [code],
                )
            },
            "/api/v1/bookings/{code}/cancel": {
                "post": _operation(
                    "cancelBooking",
                    "Cancel a booked booking of today or later; its place is freed.",
                    _ok("The booking, now cancelled.", "Booking"),
                    ("404", "409"),
                    [code],
                )
            },
        },
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `omnihub token create NAME`.",
                }
            },
        },
    }

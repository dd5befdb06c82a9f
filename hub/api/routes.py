"""The handlers of ``/api/v1``: the catalogue, sessions and bookings as JSON.

CARE tickets have their own module, ``hub.api.tickets``; ``routes()`` lists both.

Dates are WITA calendar days (``YYYY-MM-DD``), timestamps ISO 8601 in UTC. A booking
never shows who made it: no phone number, name or address leaves through the API. Who
comes to the counter, its applicant (name and masked NIK), reaches only a token with
``bookings:applicant``, which may also find today's bookings by the NIK on a KTP
(``POST /api/v1/bookings/lookup``: in a body, so the NIK stays out of access logs).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

from aiohttp import web

from hub.api.auth import API_SCOPES, OPENAPI_PATH
from hub.api.context import API
from hub.api.errors import ApiError, bad_request, not_found
from hub.api.openapi import document
from hub.api.scopes import Scope
from hub.api.tickets import ticket_routes
from hub.booking import Applicants, Booking, Reason, Refusal, SlotInfo
from hub.catalogue import Catalogue, Service

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- JSON shapes (each one is a schema in hub.api.openapi) ------------------------------------


def _hhmm(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def service_json(service: Service, catalogue: Catalogue) -> dict[str, Any]:
    agency = catalogue.agencies.get(service.agency)
    return {
        "id": service.id,
        "name_id": service.name_id,
        "name_en": service.name_en,
        "short_id": service.short_id or service.name_id,
        "short_en": service.short_en or service.name_en,
        "agency": {
            "id": service.agency,
            "name": agency.name if agency else service.agency,
            "short": (agency.short or agency.name) if agency else service.agency,
        },
        "counter": service.counter,
        "queue_prefix": service.queue_prefix,
        "requirements": list(service.requirements),
        "fee": service.fee,
        "duration_minutes": service.duration_minutes,
        "completion_time": service.completion_time,
        "daily_quota": service.daily_quota,
        "hours": dict(service.hours),
    }


def slot_json(slot: SlotInfo) -> dict[str, Any]:
    return {
        "session": slot.session,
        "start": _hhmm(slot.start),
        "end": _hhmm(slot.end),
        "capacity": slot.capacity,
        "taken": slot.taken,
        "free": slot.free,
        "bookable": slot.bookable,
    }


def booking_json(booking: Booking, catalogue: Catalogue) -> dict[str, Any]:
    service = catalogue.get(booking.service_id)
    return {
        "code": booking.code,
        "service": booking.service_id,
        "service_name": service.name_id if service else None,
        "date": booking.day.isoformat(),
        "session": booking.session,
        "session_start": _hhmm(booking.session_start),
        "session_end": _hhmm(booking.session_end),
        "queue_number": booking.queue_number,
        "queue_label": booking.queue_label,
        "counter": booking.counter,
        "status": booking.status.value,
        "channel": booking.channel,
        "created_at": _utc(booking.created_at),
    }


def applicant_json(booking: Booking, applicants: Applicants) -> dict[str, Any] | None:
    """Who comes to the counter: the name and the masked NIK; None when not recorded."""
    if not booking.applicant_name:
        return None
    return {"name": booking.applicant_name, "nik": applicants.masked(booking.applicant_nik)}


def _booking(request: web.Request, booking: Booking) -> dict[str, Any]:
    """A booking as this token may see it: with its applicant for ``bookings:applicant``."""
    bookings = request.app[API].bookings
    answer = booking_json(booking, bookings.catalogue)
    if Scope.BOOKINGS_APPLICANT in request[API_SCOPES]:
        answer["applicant"] = applicant_json(booking, bookings.applicants)
    return answer


# --- parameters --------------------------------------------------------------------------------


def _query_date(request: web.Request) -> date:
    text = request.query.get("date")
    if not text:
        raise bad_request("the 'date' parameter is required, as YYYY-MM-DD (a WITA day)")
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise bad_request(f"'date' must be a day as YYYY-MM-DD, not {text!r}") from None


def _query_service(request: web.Request, catalogue: Catalogue, *, required: bool) -> str | None:
    service_id = request.query.get("service")
    if service_id is None and not required:
        return None
    if not service_id:
        raise bad_request("the 'service' parameter is required: a service id")
    if catalogue.get(service_id) is None:
        raise bad_request(f"unknown service {service_id!r}; GET /api/v1/services lists them")
    return service_id


_CONFLICTS = {
    Reason.NOT_ACTIVE: "status_conflict",
    Reason.WRONG_DAY: "wrong_day",
    Reason.PAST: "booking_past",
}


def _refused(refusal: Refusal, code: str, action: str) -> ApiError:
    """A BookingService refusal as 404 (no such booking) or 409 (its state forbids it)."""
    if refusal.reason is Reason.NOT_FOUND:
        return not_found(f"no booking with code {code!r}")
    if refusal.reason is Reason.NOT_ACTIVE:
        message = f"booking {code} is {refusal.detail}; only a booked booking can be {action}"
    elif refusal.reason is Reason.WRONG_DAY:
        message = f"booking {code} is for {refusal.detail}; check-in is only on that day"
    elif refusal.reason is Reason.PAST:
        message = f"booking {code} was for {refusal.detail}, which has passed"
    else:
        message = f"booking {code} cannot be {action}: {refusal.reason.value}"
    return ApiError(409, _CONFLICTS.get(refusal.reason, refusal.reason.value), message)


# --- handlers --------------------------------------------------------------------------------


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document(request.app[API].bookings.catalogue))


async def list_services(request: web.Request) -> web.Response:
    catalogue = request.app[API].bookings.catalogue
    return web.json_response(
        {"items": [service_json(s, catalogue) for s in catalogue.services.values()]}
    )


async def get_service(request: web.Request) -> web.Response:
    catalogue = request.app[API].bookings.catalogue
    service_id = request.match_info["id"]
    service = catalogue.get(service_id)
    if service is None:
        raise not_found(f"no service with id {service_id!r}")
    return web.json_response(service_json(service, catalogue))


async def list_slots(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    service_id = _query_service(request, bookings.catalogue, required=True)
    assert service_id is not None
    day = _query_date(request)
    slots = await bookings.slots(service_id, day)
    return web.json_response(
        {"service": service_id, "date": day.isoformat(), "items": [slot_json(s) for s in slots]}
    )


async def list_bookings(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    catalogue = bookings.catalogue
    service_id = _query_service(request, catalogue, required=False)
    day = _query_date(request)
    found = await bookings.list(day, service_id)
    return web.json_response({"items": [_booking(request, b) for b in found]})


async def get_booking(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    code = request.match_info["code"]
    booking = await bookings.get(code)
    if booking is None:
        raise not_found(f"no booking with code {code!r}")
    return web.json_response(_booking(request, booking))


async def check_in(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    code = request.match_info["code"]
    result = await bookings.check_in(code)
    if isinstance(result, Refusal):
        raise _refused(result, code, "checked in")
    return web.json_response(_booking(request, result))


async def cancel(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    code = request.match_info["code"]
    result = await bookings.cancel(code)
    if isinstance(result, Refusal):
        raise _refused(result, code, "cancelled")
    return web.json_response(_booking(request, result))


async def _nik_in_body(request: web.Request) -> str:
    """The NIK of ``{"nik": "..."}`` as 16 digits; never repeated in an error."""
    usage = '{"nik": "<the 16 digits of the KTP>"} (spaces, dots or dashes allowed)'
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise bad_request(f"the body must be JSON: {usage}") from None
    if not isinstance(body, dict) or set(body) != {"nik"} or not isinstance(body["nik"], str):
        raise bad_request(f"the body must be exactly {usage}")
    digits = re.sub(r"[ .\-]", "", body["nik"])
    if not re.fullmatch(r"[0-9]{16}", digits):
        raise bad_request(f"'nik' is not a NIK: {usage}")
    return digits


async def lookup_bookings(request: web.Request) -> web.Response:
    """Today's bookings (WITA) whose applicant has the NIK of the KTP in hand."""
    bookings = request.app[API].bookings
    nik = await _nik_in_body(request)
    today = bookings.calendar.today(bookings.clock())
    found = await bookings.for_applicant(nik, today)
    return web.json_response(
        {"date": today.isoformat(), "items": [_booking(request, b) for b in found]}
    )


def routes() -> list[web.RouteDef]:
    """Every route of the API; ``hub.api.openapi`` describes the same list."""
    return [
        web.get(OPENAPI_PATH, openapi_json),
        web.get("/api/v1/services", list_services),
        web.get("/api/v1/services/{id}", get_service),
        web.get("/api/v1/slots", list_slots),
        web.get("/api/v1/bookings", list_bookings),
        web.get("/api/v1/bookings/{code}", get_booking),
        web.post("/api/v1/bookings/{code}/check-in", check_in),
        web.post("/api/v1/bookings/{code}/cancel", cancel),
        web.post("/api/v1/bookings/lookup", lookup_bookings),
        *ticket_routes(),
    ]

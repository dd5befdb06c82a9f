"""The handlers of ``/api/v1`` for the catalogue, sessions and bookings.

CARE tickets have their own, ``hub.api.ticket_routes``; ``hub.api.operations`` lists
the routes of both. A booking never shows who made it: no phone number, name or
address leaves through the API. Who comes to the counter, its applicant (name and
masked NIK), reaches only a token with ``bookings:applicant``, which may also find
today's bookings by the NIK on a KTP (``POST /api/v1/bookings/lookup``: in a body,
so the NIK stays out of access logs).
"""

from __future__ import annotations

import re
from datetime import date

from aiohttp import web
from pydantic import MISSING

from hub.api import shapes
from hub.api.bodies import answer, read_body
from hub.api.deps import API, API_SCOPES
from hub.api.errors import ApiError, api_error, bad_request, not_found
from hub.api.scopes import Scope
from hub.booking import Applicants, Booking, Reason, Refusal, SlotInfo
from hub.catalogue import Catalogue, Service

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- shapes -------------------------------------------------------------------------------------


def service_shape(service: Service, catalogue: Catalogue) -> shapes.Service:
    agency = catalogue.agencies.get(service.agency)
    return shapes.Service(
        id=service.id,
        name_id=service.name_id,
        name_en=service.name_en,
        short_id=service.short_id or service.name_id,
        short_en=service.short_en or service.name_en,
        agency=shapes.Agency(
            id=service.agency,
            name=agency.name if agency else service.agency,
            short=(agency.short or agency.name) if agency else service.agency,
        ),
        counter=service.counter,
        queue_prefix=service.queue_prefix,
        requirements=list(service.requirements),
        fee=service.fee,
        duration_minutes=service.duration_minutes,
        completion_time=service.completion_time,
        daily_quota=service.daily_quota,
        hours=dict(service.hours),
    )


def slot_shape(slot: SlotInfo) -> shapes.Slot:
    return shapes.Slot(
        session=slot.session,
        start=slot.start,
        end=slot.end,
        capacity=slot.capacity,
        taken=slot.taken,
        free=slot.free,
        bookable=slot.bookable,
    )


def applicant_shape(booking: Booking, applicants: Applicants) -> shapes.BookingApplicant | None:
    """Who comes to the counter: the name and the masked NIK; None when not recorded."""
    if not booking.applicant_name:
        return None
    return shapes.BookingApplicant(
        name=booking.applicant_name, nik=applicants.masked(booking.applicant_nik)
    )


def booking_shape(request: web.Request, booking: Booking) -> shapes.Booking:
    """A booking as this token may see it: with its applicant for ``bookings:applicant``."""
    bookings = request.app[API].bookings
    service = bookings.catalogue.get(booking.service_id)
    return shapes.Booking(
        code=booking.code,
        service=booking.service_id,
        service_name=service.name_id if service else None,
        date=booking.day,
        session=booking.session,
        session_start=booking.session_start,
        session_end=booking.session_end,
        queue_number=booking.queue_number,
        queue_label=booking.queue_label,
        counter=booking.counter,
        status=booking.status.value,
        channel=booking.channel,
        created_at=booking.created_at,
        applicant=(
            applicant_shape(booking, bookings.applicants)
            if Scope.BOOKINGS_APPLICANT in request[API_SCOPES]
            else MISSING
        ),
    )


# --- parameters ---------------------------------------------------------------------------------


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
    return api_error(409, _CONFLICTS.get(refusal.reason, refusal.reason.value), message)


# --- handlers -----------------------------------------------------------------------------------


async def list_services(request: web.Request) -> web.Response:
    catalogue = request.app[API].bookings.catalogue
    return answer(
        shapes.ServiceList(items=[service_shape(s, catalogue) for s in catalogue.services.values()])
    )


async def get_service(request: web.Request) -> web.Response:
    catalogue = request.app[API].bookings.catalogue
    service_id = request.match_info["id"]
    service = catalogue.get(service_id)
    if service is None:
        raise not_found(f"no service with id {service_id!r}")
    return answer(service_shape(service, catalogue))


async def list_slots(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    service_id = _query_service(request, bookings.catalogue, required=True)
    assert service_id is not None
    day = _query_date(request)
    slots = await bookings.slots(service_id, day)
    return answer(
        shapes.SlotList(service=service_id, date=day, items=[slot_shape(s) for s in slots])
    )


async def list_bookings(request: web.Request) -> web.Response:
    bookings = request.app[API].bookings
    service_id = _query_service(request, bookings.catalogue, required=False)
    day = _query_date(request)
    found = await bookings.list(day, service_id)
    return answer(shapes.BookingList(items=[booking_shape(request, b) for b in found]))


async def get_booking(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    booking = await request.app[API].bookings.get(code)
    if booking is None:
        raise not_found(f"no booking with code {code!r}")
    return answer(booking_shape(request, booking))


async def check_in(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    result = await request.app[API].bookings.check_in(code)
    if isinstance(result, Refusal):
        raise _refused(result, code, "checked in")
    return answer(booking_shape(request, result))


async def cancel(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    result = await request.app[API].bookings.cancel(code)
    if isinstance(result, Refusal):
        raise _refused(result, code, "cancelled")
    return answer(booking_shape(request, result))


async def lookup_bookings(request: web.Request) -> web.Response:
    """Today's bookings (WITA) whose applicant has the NIK of the KTP in hand."""
    bookings = request.app[API].bookings
    nik = (await read_body(request, shapes.NikLookup)).digits
    today = bookings.calendar.today(bookings.clock())
    found = await bookings.for_applicant(nik, today)
    return answer(
        shapes.BookingLookup(date=today, items=[booking_shape(request, b) for b in found])
    )

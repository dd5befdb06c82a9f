"""The queue-booking domain: calendar rules, codes and the booking service (no channels)."""

from hub.booking.applicant import Applicant, Applicants, needs_nik
from hub.booking.calendar import BookingCalendar, Reason, Refusal, Session
from hub.booking.codes import new_code, normalise_code, queue_label
from hub.booking.service import Booking, BookingService, SlotInfo
from hub.store.bookings import BookingStatus

__all__ = [
    "Applicant",
    "Applicants",
    "Booking",
    "BookingCalendar",
    "BookingService",
    "BookingStatus",
    "Reason",
    "Refusal",
    "Session",
    "SlotInfo",
    "needs_nik",
    "new_code",
    "normalise_code",
    "queue_label",
]

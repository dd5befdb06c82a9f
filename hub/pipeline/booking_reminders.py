"""Sending the booking reminders that are due, each once, on the citizen's own channel.

The booking service says which reminders are due (:mod:`hub.booking.reminder_rules` has
the rules); each is claimed and queued in one transaction, so a reminder is sent
exactly once however many hub processes look for due reminders, and a restart
neither loses nor repeats one. Delivery then is the outbox's job: a provider outage
delays a reminder, never drops it. Outside WhatsApp's 24-hour window the channel
sends the template configured for ``booking_reminder``.
"""

from __future__ import annotations

import logging

from hub.booking import Booking, BookingService
from hub.booking.reminder_rules import DueReminder
from hub.dialogs.offered import after_notice
from hub.dialogs.views import booking_view
from hub.model import Reply
from hub.pipeline.outbound import Outbound

log = logging.getLogger(__name__)

TEMPLATE = "booking_reminder"


class ReminderSender:
    def __init__(self, bookings: BookingService, outbound: Outbound) -> None:
        self.bookings = bookings
        self.outbound = outbound

    async def send_due(self) -> int:
        """Queue every due reminder not sent yet; returns how many this call queued."""
        queued = 0
        for booking, reminder in await self.bookings.due_reminders():
            if booking.conversation_id is None:
                continue  # booked without a conversation (none today): nobody to tell
            try:
                if await self._send(booking, booking.conversation_id, reminder):
                    queued += 1
            except Exception:
                # One bad booking must not hold up the others; the next tick tries again.
                log.exception("reminder not queued", extra={"kind": reminder.kind.value})
        if queued:
            self.outbound.queued()
            log.info("reminders queued", extra={"count": queued})
        return queued

    async def _send(self, booking: Booking, conversation_id: int, reminder: DueReminder) -> bool:
        def replies(locale: str) -> list[Reply]:
            context = {
                "booking": booking_view(booking, self.bookings.catalogue, locale),
                "kind": reminder.kind.value,
            }
            return [Reply(TEMPLATE, context)]

        async with self.bookings.db.begin() as conn:
            if not await self.bookings.claim_reminder(conn, booking, reminder):
                return False
            return await self.outbound.notice(
                conn, conversation_id, replies, state_after=after_notice
            )

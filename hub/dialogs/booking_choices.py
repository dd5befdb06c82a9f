"""The buttons of the booking flow: each carries its answer as an entity payload, so a
tap and a typed answer take the same path (``/inform{"date": "2026-11-30"}``)."""

from __future__ import annotations

import json
from datetime import date

from hub.booking import SlotInfo
from hub.dialogs.views import hhmm
from hub.model import Choice


def payload(intent: str, **entities: str) -> str:
    """A choice payload in Rasa's style: ``/inform{"date": "2026-11-30"}``."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def date_choice(day: date) -> Choice:
    """ "Sen 30 Nov": the weekday and month names are labels, per locale."""
    title = f"@choice.date|@weekday.{day.weekday()}|{day.day}|@month.{day.month}"
    return Choice(title, payload("inform", date=day.isoformat()))


def session_choice(slot: SlotInfo) -> Choice:
    """ "Pagi 08:00-10:00 (12 sisa)"."""
    title = (
        f"@choice.session|@session.{slot.session}|{hhmm(slot.start)}|{hhmm(slot.end)}|{slot.free}"
    )
    return Choice(title, payload("inform", time=slot.session))


def day_session_choice(day: date, session: str) -> Choice:
    """ "Sen 7 Des, Sore": another day that holds the session asked for."""
    title = (
        f"@choice.day_session|@weekday.{day.weekday()}|{day.day}|@month.{day.month}"
        f"|@session.{session}"
    )
    return Choice(title, payload("inform", date=day.isoformat(), time=session))


def booking_actions(code: str) -> tuple[Choice, ...]:
    """Move or cancel one booking: offered with a booking's news (a counter closing), so
    the citizen's answer continues into the booking flow for that very booking."""
    return (
        Choice("@intent.reschedule_booking", payload("reschedule_booking", booking_code=code)),
        Choice("@intent.cancel_booking", payload("cancel_booking", booking_code=code)),
    )

"""Queue booking in the conversation: book, check, move or cancel a place.

Booking a place fills three slots, service, date and session, then asks for a
confirmation. The citizen may give several at once ("antri ktp besok pagi") or
correct one later ("eh salah, maksudnya lusa"): every message's entities fill
the slots they name and the flow asks only for what is still missing. A date is
checked against the calendar as soon as the service is known, so a Sunday or a
holiday is refused with its reason and the next bookable dates straight away.

The flow's progress lives in the dialog state under ``booking`` as plain JSON
(service id, ISO date, session name, stage, the code being changed), so it
survives a restart. Every question is answerable by text or by a choice whose
payload carries the entity (``/inform{"date": "2026-11-30"}``). Facts come from
:class:`hub.booking.BookingService`; the wording lives in ``templates/replies``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

from hub.booking import Booking, BookingService, Reason, Refusal, SlotInfo
from hub.booking.codes import qr_path
from hub.catalogue import Catalogue, Service
from hub.dialogs.applicant import ApplicantStep, asks_to_forget
from hub.dialogs.context import DialogContext
from hub.dialogs.info import short_name
from hub.dialogs.views import booking_view, day_view, hhmm, service_view
from hub.model import Attachment, Choice, Reply
from hub.nlu.base import Parse

BOOKING_INTENTS = ("book_queue", "check_booking", "reschedule_booking", "cancel_booking")
"""The intents this flow answers."""

STATE = "booking"
"""Dialog-state key of a booking flow under way."""

MODE_INTENT = {"book": "book_queue", "reschedule": "reschedule_booking", "cancel": "cancel_booking"}
"""Each flow mode and the intent that starts (and continues) it."""

ANSWERS = ("inform", "affirm", "out_of_scope")
"""Intents of a message that answers the flow's question rather than asking something."""

SWITCH_CONFIDENCE = 0.8
"""How sure the NLU must be that a message naming a slot asks something else instead."""

MAX_SERVICE_CHOICES = 8
"""As many as the information flow offers: 8 short names fit an SMS menu."""

MAX_DATE_CHOICES = 4
"""The next bookable dates offered; four keep an SMS menu short."""

ALTERNATIVES = 3
"""Dates offered after a refusal: with the refusal's reason that fills an SMS."""

MAX_LISTED = 5
"""Active bookings listed at once; a citizen rarely holds more."""

YES = Choice("@choice.yes", "/affirm")
NO = Choice("@choice.cancel", "/deny")


def _payload(intent: str, **entities: str) -> str:
    """A choice payload in Rasa's style: ``/inform{"date": "2026-11-30"}``."""
    return f"/{intent}{json.dumps(entities)}" if entities else f"/{intent}"


def _date_choice(day: date) -> Choice:
    """ "Sen 30 Nov": the weekday and month names are labels, per locale."""
    title = f"@choice.date|@weekday.{day.weekday()}|{day.day}|@month.{day.month}"
    return Choice(title, _payload("inform", date=day.isoformat()))


def _session_choice(slot: SlotInfo) -> Choice:
    """ "Pagi 08:00-10:00 (12 sisa)"."""
    title = (
        f"@choice.session|@session.{slot.session}|{hhmm(slot.start)}|{hhmm(slot.end)}|{slot.free}"
    )
    return Choice(title, _payload("inform", time=slot.session))


class BookingFlow:
    """Book, check, move and cancel queue places over the booking service."""

    def __init__(self, bookings: BookingService, menu: Callable[[], Reply]) -> None:
        """``menu`` is the engine's main menu, shown when the citizen leaves the flow."""
        self.bookings = bookings
        self.menu = menu
        self.applicant = ApplicantStep(bookings.applicants)

    @property
    def catalogue(self) -> Catalogue:
        # The booking service's catalogue follows a reload, so the flow does too.
        return self.bookings.catalogue

    @staticmethod
    def active(state: dict[str, Any]) -> bool:
        """True while a booking flow waits for the citizen's next answer."""
        return isinstance(state.get(STATE), dict)

    def holds(self, understanding: Parse, state: dict[str, Any], context: DialogContext) -> bool:
        """A booking under way that this message names the applicant of ("orang lain",
        "nama saya …"): the flow answers it before anything else may claim the words."""
        flow = state.get(STATE) if self.active(state) else None
        if flow is None or self._another_request(understanding):
            return False
        return self.applicant.read(understanding, flow, context).details

    @staticmethod
    def forget_asked(understanding: Parse) -> bool:
        """ "hapus NIK saya": the citizen takes back the applicant they let us remember."""
        return asks_to_forget(understanding.text or "")

    @staticmethod
    def _another_request(understanding: Parse) -> bool:
        """Checking, moving or cancelling, surely ("batalkan antrean NIK …"): not an answer."""
        intent = understanding.intent
        return (
            intent.name in BOOKING_INTENTS
            and intent.name != "book_queue"
            and intent.confidence >= SWITCH_CONFIDENCE
        )

    @staticmethod
    def code_alone(understanding: Parse) -> bool:
        """A booking code with no request around it ("B-7Q4M2X"): asks about that booking."""
        return understanding.intent.name in ANSWERS and any(
            e.type == "booking_code" for e in understanding.entities
        )

    async def respond(
        self, understanding: Parse, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply] | None:
        """The replies to one message, or None when it is not about booking at all.

        ``state`` is changed in place. None means the flow was left quietly (a
        question about fees mid-flow): the engine answers the message as usual.
        """
        found = self._entities(understanding)
        intent = understanding.intent.name
        flow = state.get(STATE) if self.active(state) else None
        if flow is None and self.forget_asked(understanding):
            return [await self.applicant.forget(context)]
        if flow is not None:
            mode = str(flow.get("mode"))
            same = intent == MODE_INTENT.get(mode) and "booking_code" not in found
            said = self.applicant.read(understanding, flow, context)
            if said.details and not self._another_request(understanding):
                # "atas nama Made Sudiarta, NIK …" at any step, with other slots or not.
                self.applicant.apply(flow, said)
                self._fill(flow, found)
                return await self._next(flow, state, locale, context)
            if said.remember is not None and flow.get("stage") == "confirm":
                self.applicant.apply(flow, said)  # "ya, simpan" / "jangan disimpan"
                if said.remember or intent == "affirm":
                    return await self._commit(flow, state, locale, context)
                return await self._next(flow, state, locale, context)
            if intent == "deny" or (intent == "cancel_booking" and "booking_code" not in found):
                # "batal" / "cancel" / "gak jadi": out of the flow, nothing changed.
                del state[STATE]
                return [Reply("booking_left", {"mode": mode}), self.menu()]
            if intent == "affirm" and flow.get("stage") == "confirm":
                return await self._commit(flow, state, locale, context)
            if flow.get("stage") == "pick" and self.code_alone(understanding):
                # "Which one?" answered by typing the code instead of tapping it.
                return await self._choose_booking(mode, found, state, locale, context)
            if intent not in BOOKING_INTENTS or same:
                other = intent not in ANSWERS and not same
                sure = understanding.intent.confidence >= SWITCH_CONFIDENCE
                if (other and (sure or not found)) or not (found or same or intent == "affirm"):
                    # Another question ("biaya paspor berapa?"): answered as usual.
                    del state[STATE]
                    return None
                self._fill(flow, found)
                return await self._next(flow, state, locale, context)
            del state[STATE]  # another booking intent: start that one afresh
        if self.code_alone(understanding):
            intent = "check_booking"
        if intent not in BOOKING_INTENTS:
            return None
        if intent == "check_booking":
            return await self._check(found.get("booking_code"), locale, context)
        if intent == "book_queue":
            flow = {"mode": "book", "stage": ""}
            self.applicant.apply(flow, self.applicant.read(understanding, flow, context))
            self._fill(flow, found)
            state[STATE] = flow
            return await self._next(flow, state, locale, context)
        mode = "cancel" if intent == "cancel_booking" else "reschedule"
        return await self._choose_booking(mode, found, state, locale, context)

    # --- slots --------------------------------------------------------------------------

    def _entities(self, understanding: Parse) -> dict[str, str]:
        """The booking slots a message names: service, date, session and booking code."""
        found: dict[str, str] = {}
        for entity in understanding.entities:
            if entity.type == "service" and "service" not in found:
                if self.catalogue.get(entity.value) is not None:
                    found["service"] = entity.value
            elif entity.type == "date" and "date" not in found:
                try:
                    date.fromisoformat(entity.value)
                except ValueError:
                    continue
                found["date"] = entity.value
            elif entity.type == "time" and "session" not in found:
                session = self._session_of(entity.value)
                if session is not None:
                    found["session"] = session
            elif entity.type == "booking_code" and "booking_code" not in found:
                found["booking_code"] = entity.value
        return found

    def _session_of(self, value: str) -> str | None:
        """A session name for "pagi"/"siang"/"sore" or the session holding "09:30"."""
        sessions = self.bookings.config.sessions
        for session in sessions:
            if session.name == value:
                return session.name
        try:
            at = time.fromisoformat(value)
        except ValueError:
            return None
        return next((s.name for s in sessions if s.start <= at < s.end), None)

    @staticmethod
    def _fill(flow: dict[str, Any], found: dict[str, str]) -> None:
        """Replace the slots the message names; a booking being moved keeps its service."""
        if "service" in found and flow.get("mode") == "book":
            flow["service"] = found["service"]
        if "date" in found:
            flow["date"] = found["date"]
        if "session" in found:
            flow["session"] = found["session"]

    # --- booking and moving ---------------------------------------------------------------

    async def _next(
        self, flow: dict[str, Any], state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """Check what is filled, then ask for the first missing slot or confirm."""
        mode = str(flow.get("mode"))
        if mode == "cancel" or flow.get("stage") == "pick":
            # Still choosing which booking: ask again, keeping a date or session given.
            kept = {k: str(flow[k]) for k in ("date", "session") if flow.get(k)}
            return await self._choose_booking(mode, kept, state, locale, context)
        service = self.catalogue.get(str(flow.get("service") or ""))
        if service is None:
            flow["stage"] = "service"
            return [self._ask_service(locale)]
        about = service_view(service, locale)
        if not flow.get("date"):
            flow["stage"] = "date"
            days = await self._free_days(service, context.today - timedelta(days=1))
            return [
                Reply(
                    "booking_ask_date",
                    {"mode": flow["mode"], "service": about},
                    choices=tuple(_date_choice(d) for d in days[:MAX_DATE_CHOICES]),
                )
            ]
        day = date.fromisoformat(str(flow["date"]))
        refusal = self.bookings.calendar.check(service, day, self.bookings.clock())
        slots = await self.bookings.slots(service.id, day) if refusal is None else []
        free = [s for s in slots if s.bookable]
        if refusal is None and not free:
            refusal = Refusal(Reason.FULL)
        if refusal is not None:
            flow["date"] = None
            flow["stage"] = "date"
            return [await self._refused(refusal, service, day, None, locale, context)]
        session = flow.get("session")
        if session and session not in {s.session for s in free}:
            known = next((s for s in slots if s.session == session), None)
            reason = Reason.UNKNOWN_SESSION
            if known is not None:
                reason = Reason.FULL if known.free == 0 else Reason.SESSION_PASSED
            flow["session"] = None
            flow["stage"] = "session"
            return [
                Reply(
                    "booking_refused",
                    self._refusal_context(reason, str(session), about, day, "sessions"),
                    choices=tuple(_session_choice(s) for s in free),
                )
            ]
        if not session:
            flow["stage"] = "session"
            return [
                Reply(
                    "booking_ask_session",
                    {"mode": flow["mode"], "service": about, "date": day_view(day)},
                    choices=tuple(_session_choice(s) for s in free),
                )
            ]
        if flow["mode"] == "book":
            asked = await self.applicant.ask(flow, service, context)
            if asked is not None:
                return [asked]
        flow["stage"] = "confirm"
        chosen = next(s for s in free if s.session == session)
        summary = {
            "mode": flow["mode"],
            "service": about,
            "date": day_view(day),
            "session": {
                "name": chosen.session,
                "start": hhmm(chosen.start),
                "end": hhmm(chosen.end),
            },
        }
        if flow["mode"] == "reschedule":
            current = await self.bookings.get(str(flow.get("code")))
            summary["old"] = self._view(current, locale) if current else None
            return [Reply("booking_reschedule_confirm", summary, choices=(YES, NO))]
        summary["applicant"] = self.applicant.view(flow)
        choices = self.applicant.confirm_choices(flow, YES, NO)
        return [Reply("booking_confirm", summary, choices=choices)]

    async def _commit(
        self, flow: dict[str, Any], state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """The citizen said yes: book, move or cancel now, then report."""
        mode = flow.get("mode")
        code = str(flow.get("code") or "")
        if mode == "cancel":
            del state[STATE]
            result = await self.bookings.cancel(code, context.contact_id)
            if isinstance(result, Booking):
                return [
                    Reply(
                        "booking_cancelled",
                        {"booking": self._view(result, locale)},
                        choices=(Choice("@intent.book_queue", "/book_queue"),),
                    )
                ]
            return [self._refusal_reply(result, None, None, None, locale)]
        service = self.catalogue.get(str(flow.get("service")))
        day = date.fromisoformat(str(flow.get("date")))
        session = str(flow.get("session"))
        if service is None:  # gone from the catalogue since the question was asked
            flow["service"] = None
            return await self._next(flow, state, locale, context)
        if mode == "reschedule":
            old = await self.bookings.get(code)
            outcome = await self.bookings.reschedule(code, day, session, context.contact_id)
        else:
            old = None
            outcome = await self.bookings.book(
                context.contact_id,
                service.id,
                day,
                session,
                context.channel,
                context.conversation_id,
                applicant=self.applicant.for_booking(flow),
            )
        if isinstance(outcome, Booking):
            del state[STATE]
            reply = self._view(outcome, locale)
            reply["remembered"] = await self.applicant.after_booking(flow, context.contact_id)
            # The booking code as a QR image, for the mall's check-in scanner.
            qr = (
                Attachment(
                    content_type="image/png",
                    url=qr_path(outcome.code),
                    filename=f"{outcome.code}.png",
                    caption=outcome.code,
                ),
            )
            if mode == "reschedule":
                previous = self._view(old, locale) if old else None
                return [
                    Reply(
                        "booking_rescheduled",
                        {"booking": reply, "old": previous},
                        attachments=qr,
                    )
                ]
            return [Reply("booking_done", {"booking": reply}, attachments=qr)]
        if outcome.reason in (Reason.FULL, Reason.SESSION_PASSED, Reason.UNKNOWN_SESSION) and (
            outcome.sessions
        ):
            flow["session"] = None
            flow["stage"] = "session"
        elif outcome.reason in (Reason.ALREADY_BOOKED, Reason.NOT_FOUND, Reason.NOT_ACTIVE):
            del state[STATE]
        else:
            flow["date"] = None
            flow["stage"] = "date"
        return [await self._refused(outcome, service, day, session, locale, context)]

    async def _refused(
        self,
        refusal: Refusal,
        service: Service,
        day: date,
        session: str | None,
        locale: str,
        context: DialogContext,
    ) -> Reply:
        """Why not, with what can be had instead as choices: other sessions, else dates."""
        if refusal.sessions:
            slots = await self.bookings.slots(service.id, day)
            choices = tuple(
                _session_choice(s) for s in slots if s.session in refusal.sessions and s.bookable
            )
            offer = "sessions" if choices else ""
            return self._refusal_reply(refusal, service, day, session, locale, choices, offer)
        if refusal.reason in (Reason.ALREADY_BOOKED, Reason.NOT_FOUND, Reason.NOT_ACTIVE):
            choices = (
                (Choice("@intent.check_booking", "/check_booking"),)
                if refusal.reason is Reason.ALREADY_BOOKED
                else ()
            )
            return self._refusal_reply(refusal, service, day, session, locale, choices)
        after = day
        if refusal.reason in (Reason.PAST, Reason.BEYOND_HORIZON):
            after = context.today - timedelta(days=1)
        days = await self._free_days(service, after, ALTERNATIVES)
        if not days and after != context.today - timedelta(days=1):
            days = await self._free_days(service, context.today - timedelta(days=1), ALTERNATIVES)
        choices = tuple(_date_choice(d) for d in days)
        offer = "dates" if choices else ""
        return self._refusal_reply(refusal, service, day, session, locale, choices, offer)

    def _refusal_reply(
        self,
        refusal: Refusal,
        service: Service | None,
        day: date | None,
        session: str | None,
        locale: str = "id",
        choices: tuple[Choice, ...] = (),
        offer: str = "",
    ) -> Reply:
        about = service_view(service, locale) if service is not None else None
        context = self._refusal_context(refusal.reason, refusal.detail, about, day, offer)
        context["session"] = session or ""
        return Reply("booking_refused", context, choices=choices)

    @staticmethod
    def _refusal_context(
        reason: Reason,
        detail: str,
        service: dict[str, Any] | None,
        day: date | None,
        offer: str = "",
    ) -> dict[str, Any]:
        """One template words every reason; ``detail`` is the holiday's name, a code..."""
        return {
            "reason": reason.value,
            "detail": detail,
            "service": service,
            "date": day_view(day) if day is not None else None,
            "session": "",
            "offer": offer,
        }

    async def _free_days(
        self, service: Service, after: date, count: int = MAX_DATE_CHOICES
    ) -> list[date]:
        """The next bookable days after ``after`` that still have a free place."""
        days: list[date] = []
        now = self.bookings.clock()
        for day in self.bookings.calendar.bookable_days(service, after, now):
            if any(s.bookable for s in await self.bookings.slots(service.id, day)):
                days.append(day)
                if len(days) >= count:
                    break
        return days

    def _ask_service(self, locale: str) -> Reply:
        popular = self.catalogue.popular(MAX_SERVICE_CHOICES)
        return Reply(
            "booking_ask_service",
            {"examples": [s.synonyms[0] if s.synonyms else short_name(s, locale) for s in popular]},
            choices=tuple(
                Choice(short_name(s, locale), _payload("book_queue", service=s.id)) for s in popular
            ),
        )

    # --- checking, and finding the booking to change ---------------------------------------

    async def _mine(self, code: str | None, context: DialogContext) -> list[Booking]:
        """The contact's active bookings, or the one named by ``code`` if it is theirs,
        or those of the applicant whose NIK the message names ("cek antrean NIK …").

        Someone else's code or NIK finds nothing: a guessed code, or a NIK (which is
        no secret), reveals no booking made from another number or account.
        """
        if code:
            booking = await self.bookings.get(code)
            if booking is None or booking.contact_id != context.contact_id:
                return []
            return [booking]
        mine = await self.bookings.for_contact(context.contact_id)
        nik = self.applicant.niks_of(context)
        return mine if nik is None else self.bookings.applicants.matching(mine, nik)

    async def _check(self, code: str | None, locale: str, context: DialogContext) -> list[Reply]:
        found = await self._mine(code, context)
        if not found:
            return [self._none(code, context)]
        choices: tuple[Choice, ...] = ()
        if len(found) == 1 and found[0].active:
            only = found[0].code
            choices = (
                Choice(
                    "@intent.reschedule_booking", _payload("reschedule_booking", booking_code=only)
                ),
                Choice("@intent.cancel_booking", _payload("cancel_booking", booking_code=only)),
            )
        listed = [self._view(b, locale) for b in found[:MAX_LISTED]]
        return [
            Reply(
                "booking_list",
                {"bookings": listed, "more": max(0, len(found) - MAX_LISTED)},
                choices=choices,
            )
        ]

    def _none(self, code: str | None, context: DialogContext | None = None) -> Reply:
        nik = self.applicant.masked_of(context) if context is not None and not code else ""
        return Reply(
            "booking_none",
            {"code": code or "", "nik": nik},
            choices=(Choice("@intent.book_queue", "/book_queue"),),
        )

    async def _choose_booking(
        self,
        mode: str,
        found: dict[str, str],
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """Which booking to cancel or move: the named one, the only one, or a choice."""
        state.pop(STATE, None)
        code = found.get("booking_code")
        mine = [b for b in await self._mine(code, context) if b.active]
        if not mine:
            return [self._none(code, context)]
        intent = MODE_INTENT[mode]
        if len(mine) > 1:
            state[STATE] = {"mode": mode, "stage": "pick"}
            return [
                Reply(
                    "booking_pick",
                    {"mode": mode},
                    choices=tuple(
                        Choice(
                            f"@choice.booking|{b.code}|"
                            f"{self._short(b.service_id, locale)}|@weekday.{b.day.weekday()}|"
                            f"{b.day.day}|@month.{b.day.month}",
                            _payload(intent, booking_code=b.code),
                        )
                        for b in mine[:MAX_LISTED]
                    ),
                )
            ]
        booking = mine[0]
        if mode == "cancel":
            state[STATE] = {"mode": mode, "stage": "confirm", "code": booking.code}
            return [
                Reply(
                    "booking_cancel_confirm",
                    {"booking": self._view(booking, locale)},
                    choices=(YES, NO),
                )
            ]
        flow = {
            "mode": mode,
            "stage": "",
            "code": booking.code,
            "service": booking.service_id,
        }
        self._fill(flow, found)
        state[STATE] = flow
        return await self._next(flow, state, locale, context)

    # --- what templates get ----------------------------------------------------------------

    def _short(self, service_id: str, locale: str) -> str:
        service = self.catalogue.get(service_id)
        return short_name(service, locale) if service is not None else service_id

    def _view(self, booking: Booking, locale: str) -> dict[str, Any]:
        view = booking_view(booking, self.catalogue, locale)
        view["applicant"] = self.applicant.booking_view(booking)
        return view

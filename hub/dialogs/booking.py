"""Queue booking in the conversation: book, check, move or cancel a place.

Booking a place fills a frame of slots, service(s), date and session, then asks for
a confirmation. Any message may fill any slot, in any order and several at once
("antri ktp sama kk besok jam 9"); the bot asks only for what is still missing and
says back what it understood ("Pilih sesi untuk Paspor, Jumat, 4 Desember 2026").
Reading a message into the frame is :mod:`hub.dialogs.booking_slots`: several
services are booked together (one confirmation, one booking and code each), a
service taken back ("bukan paspor, SKCK") is replaced, and a bare weekday ("jumat
aja") is read in the week of the date under discussion (``about`` in the state),
not the nearest one. A correction, at any step and at the confirmation too, replaces
the slot and the next reply says so first ("Tanggal diganti: ..."). A date is checked
against the calendar as soon as the service is known, so a Sunday or a holiday is
refused with its reason and the next bookable dates straight away.

Times ("jam 9", "9:30", "jam 1 siang", "pagi", "after lunch") map to the session
holding them (:mod:`hub.dialogs.booking_times`); a time the service does not hold
that day (Friday afternoon, before opening) is explained with that day's hours, its
other sessions and the next days holding the one asked for.

Nothing is booked twice: once booked, the codes stay under ``booking_recent`` for a
few turns, so a second "ya" is answered with the booking made, and a correction
right after booking ("eh maksudnya lusa", "bukan paspor, SKCK") moves or replaces
that booking instead of making another. A citizen with several bookings who names
one ("yang SIM aja dibatalin", "cek antrean ktp") gets it without being asked which
(:mod:`hub.dialogs.booking_pick`).

The flow's progress lives in the dialog state under ``booking`` as plain JSON
(service ids, ISO date, session name, stage, the code being changed), so it
survives a restart. Every question is answerable by text or by a choice whose
payload carries the entity (``/inform{"date": "2026-11-30"}``). Facts come from
:class:`hub.booking.BookingService`; the wording lives in ``templates/replies``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from hub.booking import Booking, BookingService, Reason, Refusal, SlotInfo, needs_nik
from hub.booking.codes import qr_path
from hub.catalogue import Catalogue, Service
from hub.dialogs import booking_slots
from hub.dialogs.applicant_slots import ApplicantStep, asks_to_forget
from hub.dialogs.booking_choices import date_choice as _date_choice
from hub.dialogs.booking_choices import payload as _payload
from hub.dialogs.booking_choices import session_choice as _session_choice
from hub.dialogs.booking_pick import Mention, names_queue_number, select
from hub.dialogs.booking_slots import Said, services_of, set_services
from hub.dialogs.booking_times import asked_view, outside_hours, session_at
from hub.dialogs.cancel_words import confirms_cancel
from hub.dialogs.context import DialogContext
from hub.dialogs.info import short_name, topic_of, typed_names
from hub.dialogs.views import booking_view, day_view, hhmm, service_view
from hub.model import Attachment, Choice, Reply
from hub.nlu.results import Parse

BOOKING_INTENTS = ("book_queue", "check_booking", "reschedule_booking", "cancel_booking")
"""The intents this flow answers."""

STATE = "booking"
"""Dialog-state key of a booking flow under way."""

RECENT = "booking_recent"
"""Dialog-state key of the bookings just made: {codes, services, day, turn}."""

RECENT_TURNS = 3
"""Messages after booking during which "ya" again or "eh, maksudnya lusa" is about it."""

MODE_INTENT = {"book": "book_queue", "reschedule": "reschedule_booking", "cancel": "cancel_booking"}
"""Each flow mode and the intent that starts (and continues) it."""

ANSWERS = ("inform", "affirm", "out_of_scope")
"""Intents of a message that answers the flow's question rather than asking something."""

QUEUE_WORDS = re.compile(r"\b(?:antri|antre|ngantri|ngantre|antri?an|antrean|booking|book)\b")
"""A queue asked for in so many words: with a day, a request for a place whatever the
NLU calls the message (a name and a NIK in it often read as ``inform``)."""

IMPLICIT = ("inform", "out_of_scope", "ask_service_info")
"""Intents of a message that, naming a service and a date, asks for a place all the same
("mau konsultasi PBG lusa")."""

OFF_TOPIC_CONFIDENCE = 0.5
"""How sure the NLU must be that a message is out of scope for its date not to count."""

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

    def takes(self, understanding: Parse, state: dict[str, Any]) -> bool:
        """Whether this flow answers a message that is not a booking intent: a flow under
        way, a code alone, a service with a date ("konsultasi PBG lusa"), or a follow-up
        of the booking just made ("ya" again, "eh maksudnya lusa")."""
        if self.active(state) or self.code_alone(understanding):
            return True
        return self._implicit(understanding) or self._follow_up(understanding, state) is not None

    async def respond(
        self, understanding: Parse, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply] | None:
        """The replies to one message, or None when it is not about booking at all.

        ``state`` is changed in place. None means the message is not an answer (a
        question about fees mid-flow, nonsense): the flow's state stays, the engine
        answers and asks the question again (hub.dialogs.frames).
        """
        found = self._entities(understanding)
        intent = understanding.intent.name
        flow = state.get(STATE) if self.active(state) else None
        said = self._read(understanding, flow, state, context)
        if flow is None and self.forget_asked(understanding):
            return [await self.applicant.forget(context)]
        if flow is not None:
            mode = str(flow.get("mode"))
            same = intent == MODE_INTENT.get(mode) and "booking_code" not in found
            if flow.get("stage") == "pick" and self._names_one(intent, mode, said, understanding):
                # "Which one?" answered by a code, a service, a date or a queue number.
                return await self._pick(flow, said, understanding.text, state, locale, context)
            applicant = self.applicant.read(understanding, flow, context)
            if applicant.details and not self._another_request(understanding):
                # "atas nama Made Sudiarta, NIK …" at any step, with other slots or not.
                self.applicant.apply(flow, applicant)
                return await self._update(flow, said, state, locale, context)
            if applicant.remember is not None and flow.get("stage") == "confirm":
                self.applicant.apply(flow, applicant)  # "ya, simpan" / "jangan disimpan"
                if applicant.remember or intent == "affirm":
                    return await self._commit(flow, state, locale, context)
                return await self._next(flow, state, locale, context)
            if self._corrects(intent, mode, flow, said):
                # "bukan paspor, SKCK", "eh ganti jadi kamis", "iya tapi jam 10 aja".
                return await self._update(flow, said, state, locale, context)
            chosen = understanding.engine == "choice"
            stage = flow.get("stage")
            cancel_word = intent == "cancel_booking" and "booking_code" not in found
            if cancel_word and not chosen and mode == "cancel" and stage == "confirm":
                # "Batalkan antrean B-…?" "batalin aja": yes, cancel it.
                return await self._commit(flow, state, locale, context)
            if cancel_word or (intent == "deny" and (chosen or stage == "confirm")):
                # "batal" / the Batal button / "tidak" to the confirmation: nothing changed.
                # A "tidak" to another question is not an answer (the engine asks again).
                return self.cancel(state)
            if intent == "affirm" and flow.get("stage") == "confirm":
                return await self._commit(flow, state, locale, context)
            if off_topic(understanding):
                # "cuaca besok gimana?": a date in a question about something else.
                return None
            if intent not in BOOKING_INTENTS or same:
                other = intent not in ANSWERS and not same
                sure = understanding.intent.confidence >= SWITCH_CONFIDENCE
                if (other and (sure or not found)) or not (found or same or intent == "affirm"):
                    # Another question ("biaya paspor berapa?") or nothing that fits: the
                    # engine answers it and asks again; the flow's state is kept.
                    return None
                return await self._update(flow, said, state, locale, context)
            del state[STATE]  # another booking intent: start that one afresh
        follow_up = self._follow_up(understanding, state)
        if follow_up is not None:
            return await self._after_booking(follow_up, said, state, locale, context)
        if self.code_alone(understanding):
            intent = "check_booking"
        elif self._implicit(understanding):
            intent = "book_queue"
        if intent not in BOOKING_INTENTS:
            return None
        mention = Mention(said.services, said.day, self._session(said), understanding.text)
        if intent == "check_booking":
            return await self._check(said.code, mention, locale, context)
        if intent == "book_queue":
            flow = {"mode": "book", "stage": ""}
            self.applicant.apply(flow, self.applicant.read(understanding, flow, context))
            booking_slots.fill(flow, said, self.bookings.config.sessions)
            topic = topic_of(state)
            if not flow.get("service") and topic and self.catalogue.get(topic) is not None:
                flow["service"] = topic  # "ok bisa antri jumat?" after the fee of paspor
            state[STATE] = flow
            return await self._next(flow, state, locale, context)
        mode = "cancel" if intent == "cancel_booking" else "reschedule"
        if mode == "reschedule":  # the date named is where to, not which booking
            mention = Mention(said.services, None, None, understanding.text)
        return await self._choose_booking(mode, said, mention, state, locale, context)

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
                session = session_at(self.bookings.config.sessions, entity.value)
                found["session"] = session or entity.value
            elif entity.type == "booking_code" and "booking_code" not in found:
                found["booking_code"] = entity.value
        return found

    def _read(
        self,
        understanding: Parse,
        flow: dict[str, Any] | None,
        state: dict[str, Any],
        context: DialogContext,
    ) -> Said:
        """The message's slots, a bare weekday read in the week under discussion: the
        flow's date (or the date just refused), else the day just booked."""
        about = (flow or {}).get("about") or (flow or {}).get("date")
        recent = self._recent(state)
        if flow is None and recent is not None:
            about = recent.get("day")
        day = _iso(about)
        return booking_slots.read(understanding, self.catalogue, context.today, day)

    def _session(self, said: Said) -> str | None:
        return session_at(self.bookings.config.sessions, said.time) if said.time else None

    def _corrects(self, intent: str, mode: str, flow: dict[str, Any], said: Said) -> bool:
        """A message that changes the frame though its intent alone would leave or commit:
        "bukan paspor, SKCK" (deny), "ganti jadi kamis" (reschedule while booking),
        "iya tapi jam 10 aja" at the confirmation (affirm)."""
        if mode not in ("book", "reschedule") or flow.get("stage") == "pick":
            return False
        values = said.day is not None or said.time is not None
        if mode == "book":
            values = values or bool(said.services or said.dropped)
        if not values or said.code:
            return False
        if intent == "deny" or (intent == "reschedule_booking" and mode == "book"):
            return True
        if intent == "affirm" and flow.get("stage") == "confirm":
            trial = dict(flow)
            booking_slots.fill(trial, said, self.bookings.config.sessions)
            return any(trial.get(k) != flow.get(k) for k in ("service", "also", "date", "session"))
        return False

    def _implicit(self, understanding: Parse) -> bool:
        """ "mau konsultasi PBG lusa": a service and a date, no other request, ask for a place."""
        if understanding.intent.name not in IMPLICIT:
            return False
        kinds = {e.type for e in understanding.entities}
        named = any(
            e.type == "service" and self.catalogue.get(e.value) is not None
            for e in understanding.entities
        )
        if named and "date" in kinds:
            return True
        # "mau antri bsk jam 9 atas nama Made …": the queue named in so many words, a day.
        return "date" in kinds and QUEUE_WORDS.search(understanding.text.lower()) is not None

    async def _update(
        self,
        flow: dict[str, Any],
        said: Said,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """Fill the slots the message names, then carry on; a change is said first."""
        changed = booking_slots.fill(flow, said, self.bookings.config.sessions)
        replies = await self._next(flow, state, locale, context)
        return self._say_changed(flow, changed, replies, locale)

    def _say_changed(
        self, flow: dict[str, Any], changed: list[str], replies: list[Reply], locale: str
    ) -> list[Reply]:
        """The first reply opens with what changed: "Tanggal diganti: Rabu, 2 Desember"."""
        if not changed or not replies:
            return replies
        lines: list[dict[str, Any]] = []
        for slot in changed:
            if slot == "service":
                names = [self._short(s, locale) for s in services_of(flow)]
                if names:
                    lines.append({"slot": "service", "value": names})
            elif slot == "date" and flow.get("date"):
                lines.append({"slot": "date", "value": day_view(date.fromisoformat(flow["date"]))})
            elif slot == "session" and flow.get("session"):
                lines.append({"slot": "session", "value": self._session_view(str(flow["session"]))})
        first = replies[0]
        said = Reply(
            first.template, {**first.context, "changed": lines}, first.choices, first.attachments
        )
        return [said, *replies[1:]]

    def _session_view(self, name: str) -> dict[str, str]:
        session = next((s for s in self.bookings.config.sessions if s.name == name), None)
        return {
            "name": name,
            "start": hhmm(session.start) if session else "",
            "end": hhmm(session.end) if session else "",
        }

    # --- booking and moving ---------------------------------------------------------------

    def _services(self, flow: dict[str, Any]) -> list[Service]:
        return [s for s in map(self.catalogue.get, services_of(flow)) if s is not None]

    async def _next(
        self, flow: dict[str, Any], state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """Check what is filled, then ask for the first missing slot or confirm."""
        mode = str(flow.get("mode"))
        if mode == "cancel" or flow.get("stage") == "pick":
            # Still choosing which booking: ask again, keeping a date or session given.
            said = Said(day=_iso(flow.get("date")), time=flow.get("time") or flow.get("session"))
            return await self._choose_booking(mode, said, Mention(), state, locale, context)
        services = self._services(flow)
        time_said = self._time_said(flow)
        if not services:
            flow["stage"] = "service"
            day = _iso(flow.get("date"))
            return [self._ask_service(locale, day, time_said)]
        service = services[0]
        about = service_view(service, locale)
        also = [service_view(s, locale) for s in services[1:]]
        if not flow.get("date"):
            flow["stage"] = "date"
            days = await self._free_days(services, context.today - timedelta(days=1))
            return [
                Reply(
                    "booking_ask_date",
                    {"mode": flow["mode"], "service": about, "also": also, "time": time_said},
                    choices=tuple(_date_choice(d) for d in days[:MAX_DATE_CHOICES]),
                )
            ]
        day = date.fromisoformat(str(flow["date"]))
        flow["about"] = day.isoformat()
        now = self.bookings.clock()
        refusal, refused = None, service
        for candidate in services:
            refusal = self.bookings.calendar.check(candidate, day, now)
            if refusal is not None:
                refused = candidate
                break
        free = await self._free_slots(services, day) if refusal is None else []
        if refusal is None and not free:
            refusal = Refusal(Reason.FULL)
        if refusal is not None:
            flow["date"] = None
            flow["stage"] = "date"
            reply = await self._refused(refusal, services, day, None, locale, context, refused)
            return [reply]
        session = flow.get("session")
        held = session and self.bookings.calendar.session(service, day, str(session))
        if (flow.get("time") or session) and not held:
            # "jam 7", "jam 2 siang" on a Friday: no session holds it that day.
            asked = str(flow.get("time") or session)
            flow["session"] = flow["time"] = None
            flow["stage"] = "session"
            return [await outside_hours(self.bookings, services, day, asked, free, locale)]
        if session and session not in {s.session for s in free}:
            slots = await self.bookings.slots(service.id, day)
            known = next((s for s in slots if s.session == session), None)
            reason = Reason.UNKNOWN_SESSION
            if known is not None:
                reason = Reason.FULL if known.free == 0 else Reason.SESSION_PASSED
            flow["session"] = flow["time"] = None
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
                    {"mode": flow["mode"], "service": about, "also": also, "date": day_view(day)},
                    choices=tuple(_session_choice(s) for s in free),
                )
            ]
        chosen = next(s for s in free if s.session == session)
        summary: dict[str, Any] = {
            "mode": flow["mode"],
            "service": about,
            "also": also,
            "date": day_view(day),
            "session": {
                "name": chosen.session,
                "start": hhmm(chosen.start),
                "end": hhmm(chosen.end),
            },
            "replaces": None,
        }
        if flow["mode"] == "book":
            # One applicant for every service booked together; a NIK if any asks for one.
            identity = next((s for s in services if needs_nik(s)), service)
            question = await self.applicant.ask(flow, identity, context)
            if question is not None:
                # Said back with the question: what is booked so far, then who comes.
                said_back = {**question.context, "booking": summary}
                return [Reply(question.template, said_back, question.choices)]
        flow["stage"] = "confirm"
        if flow["mode"] == "reschedule":
            current = await self.bookings.get(str(flow.get("code")))
            summary["old"] = self._view(current, locale) if current else None
            return [Reply("booking_reschedule_confirm", summary, choices=(YES, NO))]
        if flow.get("replaces"):
            replaced = await self.bookings.get(str(flow["replaces"]))
            summary["replaces"] = self._view(replaced, locale) if replaced else None
        summary["applicant"] = self.applicant.view(flow)
        choices = self.applicant.confirm_choices(flow, YES, NO)
        return [Reply("booking_confirm", summary, choices=choices)]

    def _time_said(self, flow: dict[str, Any]) -> dict[str, str] | None:
        """The time already given, said back while asking for the rest."""
        said = flow.get("time") or flow.get("session")
        return asked_view(str(said)) if said else None

    async def _free_slots(self, services: Sequence[Service], day: date) -> list[SlotInfo]:
        """The first service's bookable sessions that every service has free that day."""
        slots = [s for s in await self.bookings.slots(services[0].id, day) if s.bookable]
        for other in services[1:]:
            theirs = {s.session: s for s in await self.bookings.slots(other.id, day) if s.bookable}
            slots = [
                s if s.free <= theirs[s.session].free else theirs[s.session]
                for s in slots
                if s.session in theirs
            ]
        return slots

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
        services = self._services(flow)
        day = date.fromisoformat(str(flow.get("date")))
        session = str(flow.get("session"))
        if not services:  # gone from the catalogue since the question was asked
            set_services(flow, [])
            return await self._next(flow, state, locale, context)
        if mode == "reschedule":
            old = await self.bookings.get(code)
            outcome = await self.bookings.reschedule(code, day, session, context.contact_id)
            if isinstance(outcome, Booking):
                del state[STATE]
                self._remember(state, [outcome])
                previous = self._view(old, locale) if old else None
                return [
                    Reply(
                        "booking_rescheduled",
                        {"booking": self._view(outcome, locale), "old": previous},
                        attachments=_qr(outcome),
                    )
                ]
            return await self._not_done(flow, state, services[0], outcome, locale, context)
        replies: list[Reply] = []
        booked: list[Booking] = []
        refused: list[tuple[Service, Refusal]] = []
        for service in services:
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
                booked.append(outcome)
            else:
                refused.append((service, outcome))
        replaced = await self._replace(flow, booked, locale, context)
        remembered = bool(booked) and await self.applicant.after_booking(flow, context.contact_id)
        for booking in booked:
            view = self._view(booking, locale)
            # Said once, under the last booking made.
            view["remembered"] = remembered and booking is booked[-1]
            replies.append(
                Reply(
                    "booking_done",
                    {"booking": view, "replaced": replaced},
                    attachments=_qr(booking),
                )
            )
        if booked:
            self._remember(state, booked)
        if not refused:
            del state[STATE]
            return replies
        flow.pop("replaces", None)
        set_services(flow, [s.id for s, _ in refused])
        service, refusal = refused[0]
        return replies + await self._not_done(flow, state, service, refusal, locale, context)

    async def _replace(
        self, flow: dict[str, Any], booked: list[Booking], locale: str, context: DialogContext
    ) -> dict[str, Any] | None:
        """A booking made to replace one just made for the wrong service: cancel that one."""
        code = flow.get("replaces")
        if not code or not booked:
            return None
        result = await self.bookings.cancel(str(code), context.contact_id)
        if not isinstance(result, Booking):
            return None
        return {"code": result.code, "service": self._short(result.service_id, locale)}

    async def _not_done(
        self,
        flow: dict[str, Any],
        state: dict[str, Any],
        service: Service,
        outcome: Refusal,
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """A refused booking or move: what can be had instead, the flow kept where useful."""
        day = date.fromisoformat(str(flow.get("date")))
        session = str(flow.get("session"))
        if outcome.reason in (Reason.FULL, Reason.SESSION_PASSED, Reason.UNKNOWN_SESSION) and (
            outcome.sessions
        ):
            flow["session"] = flow["time"] = None
            flow["stage"] = "session"
        elif outcome.reason in (Reason.ALREADY_BOOKED, Reason.NOT_FOUND, Reason.NOT_ACTIVE):
            rest = [s for s in services_of(flow) if s != service.id]
            if rest and flow.get("mode") == "book":
                set_services(flow, rest)
            else:
                state.pop(STATE, None)
        else:
            flow["date"] = None
            flow["stage"] = "date"
        return [await self._refused(outcome, [service], day, session, locale, context)]

    def _remember(self, state: dict[str, Any], made: list[Booking]) -> None:
        """The bookings just made, for "ya" again or a correction right after."""
        state[RECENT] = {
            "codes": [b.code for b in made],
            "services": [b.service_id for b in made],
            "day": made[0].day.isoformat(),
            "turn": int(state.get("turns", 0)),
        }

    async def _refused(
        self,
        refusal: Refusal,
        services: Sequence[Service],
        day: date,
        session: str | None,
        locale: str,
        context: DialogContext,
        refused: Service | None = None,
    ) -> Reply:
        """Why not, with what can be had instead as choices: other sessions, else dates."""
        service = refused or services[0]
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
        days = await self._free_days(services, after, ALTERNATIVES)
        if not days and after != context.today - timedelta(days=1):
            days = await self._free_days(services, context.today - timedelta(days=1), ALTERNATIVES)
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
        self, services: Sequence[Service], after: date, count: int = MAX_DATE_CHOICES
    ) -> list[date]:
        """The next bookable days after ``after`` on which every service has a free place."""
        days: list[date] = []
        now = self.bookings.clock()
        for day in self.bookings.calendar.bookable_days(services[0], after, now):
            if await self._free_slots(services, day):
                days.append(day)
                if len(days) >= count:
                    break
        return days

    def _ask_service(
        self, locale: str, day: date | None = None, time: dict[str, str] | None = None
    ) -> Reply:
        popular = self.catalogue.popular(MAX_SERVICE_CHOICES)
        return Reply(
            "booking_ask_service",
            {
                "examples": typed_names(self.catalogue, locale, MAX_SERVICE_CHOICES),
                "date": day_view(day) if day else None,
                "time": time,
            },
            choices=tuple(
                Choice(short_name(s, locale), _payload("book_queue", service=s.id)) for s in popular
            ),
        )

    # --- right after booking -----------------------------------------------------------------

    @staticmethod
    def _recent(state: dict[str, Any]) -> dict[str, Any] | None:
        """The bookings just made, while a follow-up can still be about them."""
        recent = state.get(RECENT)
        if not isinstance(recent, dict):
            return None
        if int(state.get("turns", 0)) - int(recent.get("turn", 0)) > RECENT_TURNS:
            state.pop(RECENT, None)
            return None
        return recent

    def _follow_up(self, understanding: Parse, state: dict[str, Any]) -> str | None:
        """How a message right after booking is about that booking: ``again`` ("ya" a
        second time), ``move`` ("eh maksudnya lusa", "jamnya jam 10 aja") or ``replace``
        ("bukan paspor, SKCK"); None when it is not."""
        recent = self._recent(state)
        if recent is None or self.active(state) or off_topic(understanding):
            return None
        intent = understanding.intent.name
        if intent in BOOKING_INTENTS and intent != "reschedule_booking":
            return None  # a new request: another booking, a check, a cancellation
        kinds = {e.type for e in understanding.entities}
        if "booking_code" in kinds or "ticket_id" in kinds:
            return None
        services = [e.value for e in understanding.entities if e.type == "service"]
        if intent == "affirm" and not kinds:
            return "again"
        if intent not in (*ANSWERS, "deny", "reschedule_booking"):
            return None
        said = booking_slots.read(understanding, self.catalogue, date.min)
        if intent == "reschedule_booking" and not said.correcting:
            return None  # "move my booking to Wednesday": a request of its own
        booked = [str(s) for s in recent.get("services") or []]
        taken_back = bool(set(said.dropped) & set(booked))
        if said.services and (taken_back or (said.correcting and len(booked) == 1)):
            return "replace"
        if not services and ("date" in kinds or "time" in kinds):
            return "move"
        return None

    async def _after_booking(
        self,
        follow_up: str,
        said: Said,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """Answer a follow-up of the booking just made without booking anything twice."""
        recent = self._recent(state) or {}
        codes = [str(c) for c in recent.get("codes") or []]
        mine = [b for b in await self._mine(None, context) if b.code in codes and b.active]
        state.pop(RECENT, None)
        if not mine:
            return [self._none(None)]
        if follow_up == "again":
            listed = [self._view(b, locale) for b in mine]
            return [Reply("booking_list", {"bookings": listed, "more": 0, "again": True})]
        if follow_up == "replace":
            old = next((b for b in mine if b.service_id in said.dropped), mine[0])
            flow: dict[str, Any] = {
                "mode": "book",
                "stage": "",
                "service": old.service_id,
                "also": [],
                "date": old.day.isoformat(),
                "session": old.session,
                "about": old.day.isoformat(),
                "replaces": old.code,
            }
            if old.applicant_name:  # the same person comes, for the right service
                flow["applicant"] = {
                    "name": old.applicant_name,
                    "nik": old.applicant_nik,
                    "nik_for": old.applicant_name,
                    "who": "other",  # not offered to remember again
                    "declined_saved": True,
                }
            state[STATE] = flow
            return await self._update(flow, said, state, locale, context)
        if len(mine) > 1:
            mention = Mention(said.services, None, None, "")
            return await self._choose_booking(
                "reschedule", said, mention, state, locale, context, only=codes
            )
        return await self._move(mine[0], said, state, locale, context)

    async def _move(
        self,
        booking: Booking,
        said: Said,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """Move ``booking`` to what the message says, keeping what it does not change."""
        flow: dict[str, Any] = {
            "mode": "reschedule",
            "stage": "",
            "code": booking.code,
            "service": booking.service_id,
            "date": booking.day.isoformat(),
            "session": booking.session,
            "about": booking.day.isoformat(),
        }
        state[STATE] = flow
        return await self._update(flow, said, state, locale, context)

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

    async def _check(
        self, code: str | None, mention: Mention, locale: str, context: DialogContext
    ) -> list[Reply]:
        found = await self._mine(code, context)
        if not found:
            return [self._none(code, context)]
        missing: list[str] = []
        if not code and mention:
            chosen, unmatched = select(found, mention)
            if unmatched:
                missing = [self._short(s, locale) for s in mention.services]
            else:
                found = chosen
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
                {"bookings": listed, "more": max(0, len(found) - MAX_LISTED), "missing": missing},
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

    @staticmethod
    def _names_one(intent: str, mode: str, said: Said, understanding: Parse) -> bool:
        """At "which one?": an answer naming a booking, typed or tapped."""
        if intent not in (*ANSWERS, "deny", MODE_INTENT.get(mode, "")):
            return False
        if said.code or said.services or said.day or said.time:
            return True
        return names_queue_number(understanding.text)

    async def _pick(
        self,
        flow: dict[str, Any],
        said: Said,
        text: str,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """ "Which one?" answered: narrow the candidates by what the answer names. A date
        names a booking only if one of them is on it; otherwise it is where to move."""
        mode = str(flow.get("mode"))
        candidates = [str(c) for c in flow.get("candidates") or []]
        mine = [b for b in await self._mine(said.code, context) if b.active]
        days = {b.day for b in mine}
        on_day = said.day if said.day in days else None
        mention = Mention(said.services, on_day, self._session(said) if on_day else None, text)
        kept = Said(
            code=said.code,
            day=None if on_day else said.day or _iso(flow.get("date")),
            time=None if on_day else said.time or flow.get("time") or flow.get("session"),
        )
        only = candidates if not said.code else None
        return await self._choose_booking(mode, kept, mention, state, locale, context, only=only)

    async def _choose_booking(
        self,
        mode: str,
        said: Said,
        mention: Mention,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        only: list[str] | None = None,
    ) -> list[Reply]:
        """Which booking to cancel or move: the named one, the only one, or a choice
        between those the message fits (all of them when it names none)."""
        state.pop(STATE, None)
        code = said.code
        mine = [b for b in await self._mine(code, context) if b.active]
        if only:
            mine = [b for b in mine if b.code in only] or mine
        if not mine:
            return [self._none(code, context)]
        missing: list[str] = []
        if len(mine) > 1 and mention:
            chosen, unmatched = select(mine, mention)
            if unmatched and mention.services:
                missing = [self._short(s, locale) for s in mention.services]
            mine = chosen
        intent = MODE_INTENT[mode]
        if len(mine) > 1:
            pick: dict[str, Any] = {
                "mode": mode,
                "stage": "pick",
                "candidates": [b.code for b in mine[:MAX_LISTED]],
            }
            if mode == "reschedule":
                if said.day:
                    pick["date"] = said.day.isoformat()
                if said.time:
                    pick["time"] = said.time
            state[STATE] = pick
            return [
                Reply(
                    "booking_pick",
                    {"mode": mode, "missing": missing},
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
        flow: dict[str, Any] = {
            "mode": mode,
            "stage": "",
            "code": booking.code,
            "service": booking.service_id,
            "about": booking.day.isoformat(),
        }
        booking_slots.fill(flow, said, self.bookings.config.sessions)
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

    # --- the engine's frame protocol (hub.dialogs.frames.Flow) -----------------------------

    state_key = STATE

    async def reask(
        self, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """The pending question again (after a digression, small talk, a miss)."""
        flow = state.get(STATE)
        if not isinstance(flow, dict):
            return [self.menu()]
        code = str(flow.get("code") or "")
        if flow.get("mode") == "cancel" and code:
            return await self._choose_booking(
                "cancel", Said(code=code), Mention(), state, locale, context
            )
        return await self._next(flow, state, locale, context)

    def describe(self, state: dict[str, Any], locale: str) -> dict[str, Any]:
        """ "pemesanan antrean Paspor", "perubahan antrean B-7Q4M2X" (templates word it)."""
        flow = state.get(STATE)
        flow = flow if isinstance(flow, dict) else {}
        service_id = str(flow.get("service") or "")
        return {
            "flow": "booking",
            "mode": str(flow.get("mode") or "book"),
            "service": self._short(service_id, locale) if service_id else "",
            "service_id": service_id,
            "code": str(flow.get("code") or ""),
        }

    def cancel(self, state: dict[str, Any]) -> list[Reply]:
        """Leave on the citizen's word: nothing booked or changed, and the menu."""
        flow = state.pop(STATE, None)
        mode = flow.get("mode") if isinstance(flow, dict) else "book"
        return [Reply("booking_left", {"mode": mode}), self.menu()]

    def cancel_is_answer(self, state: dict[str, Any], text: str) -> bool:
        """ "batalin aja" asked "Batalkan antrean B-…?" confirms; a bare "batal" is the
        Batal button (keep the booking)."""
        flow = state.get(STATE)
        return (
            isinstance(flow, dict)
            and flow.get("mode") == "cancel"
            and flow.get("stage") == "confirm"
            and confirms_cancel(text)
        )

    async def status(
        self, understanding: Parse, locale: str, context: DialogContext
    ) -> list[Reply]:
        """ "cek antrean saya" asked mid-flow: the citizen's bookings; the flow stays."""
        said = booking_slots.read(understanding, self.catalogue, context.today, None)
        mention = Mention(said.services, said.day, self._session(said), understanding.text)
        return await self._check(said.code, mention, locale, context)


def off_topic(understanding: Parse) -> bool:
    """A message the NLU is fairly sure asks about something the mall does not do
    ("what about the weather tomorrow"): its date or time is not a booking's."""
    intent = understanding.intent
    return intent.name == "out_of_scope" and intent.confidence >= OFF_TOPIC_CONFIDENCE


def _iso(value: Any) -> date | None:
    """A date kept in the state as ISO text, or None."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _qr(booking: Booking) -> tuple[Attachment, ...]:
    """The booking code as a QR image, for the mall's check-in scanner."""
    return (
        Attachment(
            content_type="image/png",
            url=qr_path(booking.code),
            filename=f"{booking.code}.png",
            caption=booking.code,
        ),
    )

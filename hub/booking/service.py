"""Booking, checking, moving and cancelling queue places: the booking domain's one door.

Dialogs, the REST API and the console call :class:`BookingService`; it applies the
calendar's rules, then lets the store's atomic statements decide what races decide
(the last place of a session, the next queue number, the one active booking per
contact, service and day), each booking in a single transaction. A refusal is a
value, not an exception, because telling the citizen why and what else is possible
is the normal path of a conversation.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.booking.applicant import Applicant, Applicants
from hub.booking.calendar import BookingCalendar, Reason, Refusal, Session
from hub.booking.codes import new_code, normalise_code, queue_label
from hub.booking.reminder_rules import DueReminder, ReminderRule, due_reminders
from hub.catalogue import Catalogue, CurrentCatalogue, Service, current
from hub.config import BookingConfig
from hub.model import utcnow
from hub.security.vault import NikVault
from hub.store import bookings as store
from hub.store import reminders as reminder_store
from hub.store.bookings import ACTIVE, BookingRecord, BookingStatus
from hub.store.database import Database

_INSERT_ATTEMPTS = 5
"""Tries for a booking insert: a fresh code after the (one in a billion) code collision."""


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking as the citizen and the counter see it."""

    code: str
    service_id: str
    day: date
    session: str
    queue_number: int
    queue_label: str
    counter: str
    status: BookingStatus
    channel: str
    contact_id: int
    created_at: datetime
    requirements: tuple[str, ...] = ()
    """What to bring, from the catalogue."""
    session_start: time | None = None
    session_end: time | None = None
    conversation_id: int | None = None
    applicant_name: str | None = None
    """Who comes to the counter; None for a booking made before applicants were asked."""
    applicant_nik: str | None = None
    """The applicant's NIK as ciphertext (hub.security.vault): show it through
    :meth:`hub.booking.applicant.Applicants.masked`, never as it is."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True, slots=True)
class SlotInfo:
    """One session of a day with its places: what a dialog offers as choices."""

    session: str
    start: time
    end: time
    capacity: int
    taken: int
    bookable: bool
    """Free places left, the day open for booking now and the session not yet over."""

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.taken)


class _Abort(Exception):
    """Leaves a transaction with a refusal, rolling back what it had taken."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason.value)
        self.refusal = refusal


class BookingService:
    """The queue-booking rules over the store; every date is a WITA calendar day."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue | CurrentCatalogue,
        config: BookingConfig,
        *,
        timezone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
        vault: NikVault | None = None,
    ) -> None:
        """``catalogue`` is the one in use (the hub's, followed on reload) or a fixed one;
        ``timezone`` is the citizen's (``server.timezone``). Without ``vault`` (unit
        tests) no applicant's NIK can be kept or matched."""
        self.db = db
        self.catalogues = current(catalogue)
        self.config = config
        self.timezone = timezone
        self.clock = clock
        self.applicants = Applicants(db, vault, clock)
        self._calendar_of = self.catalogues.catalogue
        self._calendar = BookingCalendar(self._calendar_of, config, timezone)

    @property
    def catalogue(self) -> Catalogue:
        return self.catalogues.catalogue

    @property
    def calendar(self) -> BookingCalendar:
        """The booking rules of the catalogue in use, rebuilt when it is replaced."""
        catalogue = self.catalogues.catalogue
        if catalogue is not self._calendar_of:
            self._calendar = BookingCalendar(catalogue, self.config, self.timezone)
            self._calendar_of = catalogue
        return self._calendar

    # --- reading ----------------------------------------------------------------------------

    async def slots(self, service_id: str, day: date) -> builtins.list[SlotInfo]:
        """The sessions of ``day`` with capacity and free places; [] when closed or unknown."""
        service = self.catalogue.get(service_id)
        if service is None:
            return []
        sessions = self.calendar.sessions(service, day)
        if not sessions:
            return []
        now = self.clock()
        async with self.db.engine.connect() as conn:
            used = await store.usage(conn, service_id, day)
        day_open = self.calendar.check(service, day, now) is None
        slots: builtins.list[SlotInfo] = []
        for session in sessions:
            capacity, taken = used.get(session.name, (session.capacity, 0))
            passed = self.calendar.session_passed(session, day, now)
            slots.append(
                SlotInfo(
                    session.name,
                    session.start,
                    session.end,
                    capacity,
                    taken,
                    bookable=day_open and not passed and taken < capacity,
                )
            )
        return slots

    async def get(self, code: str) -> Booking | None:
        """The booking with this code, however the citizen typed it."""
        normal = normalise_code(code)
        if normal is None:
            return None
        async with self.db.engine.connect() as conn:
            record = await store.by_code(conn, normal)
        return None if record is None else self._booking(record)

    async def for_contact(
        self, contact_id: int, active_only: bool = True
    ) -> builtins.list[Booking]:
        """A citizen's bookings, soonest first; active ones are those still ahead of them."""
        since = self.calendar.today(self.clock()) if active_only else None
        async with self.db.engine.connect() as conn:
            records = await store.for_contact(
                conn, contact_id, active_only=active_only, since=since
            )
        return [self._booking(r) for r in records]

    async def list(self, day: date, service_id: str | None = None) -> builtins.list[Booking]:
        """A day's bookings in queue order: what the counter calls."""
        async with self.db.engine.connect() as conn:
            records = await store.on_day(conn, day, service_id)
        return [self._booking(r) for r in records]

    async def for_applicant(self, nik: str, day: date) -> builtins.list[Booking]:
        """The bookings of ``day`` whose applicant has this NIK (in clear): the counter's
        check-in by the KTP in hand."""
        return self.applicants.matching(await self.list(day), nik)

    # --- booking ----------------------------------------------------------------------------

    async def book(
        self,
        contact_id: int,
        service_id: str,
        day: date,
        session: str,
        channel: str,
        conversation_id: int | None = None,
        applicant: Applicant | None = None,
    ) -> Booking | Refusal:
        """Take a place in ``session`` of ``day``, or say why not and what else is free.

        ``applicant`` is who comes to the counter, their NIK already sealed."""
        service = self.catalogue.get(service_id)
        if service is None:
            return Refusal(Reason.UNKNOWN_SERVICE, service_id)
        now = self.clock()
        chosen_or_refusal = await self._bookable_session(service, day, session, now)
        if isinstance(chosen_or_refusal, Refusal):
            return chosen_or_refusal
        chosen = chosen_or_refusal
        last_error: IntegrityError | None = None
        for _ in range(_INSERT_ATTEMPTS):
            try:
                async with self.db.begin() as conn:
                    existing = await store.active_for(conn, contact_id, service.id, day)
                    if existing is not None:
                        return Refusal(Reason.ALREADY_BOOKED, existing.code)
                    taken = await store.take_place(
                        self.db, conn, service.id, day, chosen.name, chosen.capacity
                    )
                    if taken is None:
                        raise _Abort(Refusal(Reason.FULL, chosen.name))
                    number = await store.next_queue_number(self.db, conn, service.id, day)
                    record = await store.insert_booking(
                        conn,
                        code=new_code(),
                        contact_id=contact_id,
                        conversation_id=conversation_id,
                        service_id=service.id,
                        day=day,
                        session=chosen.name,
                        queue_number=number,
                        queue_label=queue_label(service.queue_prefix, number),
                        counter=service.counter,
                        channel=channel,
                        at=now,
                        applicant_name=applicant.name if applicant else None,
                        applicant_nik=applicant.nik if applicant else None,
                    )
                return self._booking(record)
            except _Abort:
                return await self._full(service, day, chosen, now)
            except IntegrityError as error:
                # The unique index caught a booking made meanwhile (another process, a
                # double tap); everything this attempt took was rolled back with it.
                last_error = error
                async with self.db.engine.connect() as conn:
                    existing = await store.active_for(conn, contact_id, service.id, day)
                if existing is not None:
                    return Refusal(Reason.ALREADY_BOOKED, existing.code)
        assert last_error is not None
        raise last_error

    async def reschedule(
        self, code: str, day: date, session: str, contact_id: int | None = None
    ) -> Booking | Refusal:
        """Move a booking to another day or session in one step: the new place is taken
        and the old one given back together, or nothing changes."""
        found = await self._find(code, contact_id)
        if isinstance(found, Refusal):
            return found
        service = self.catalogue.get(found.service_id)
        if service is None:
            return Refusal(Reason.UNKNOWN_SERVICE, found.service_id)
        now = self.clock()
        chosen_or_refusal = await self._bookable_session(service, day, session, now)
        if isinstance(chosen_or_refusal, Refusal):
            return chosen_or_refusal
        chosen = chosen_or_refusal
        try:
            async with self.db.begin() as conn:
                record = await store.by_code(conn, found.code, for_update=True)
                if record is None:
                    raise _Abort(Refusal(Reason.NOT_FOUND))
                self._still_changeable(record, now)
                if (record.day, record.session) == (day, chosen.name):
                    return self._booking(record)
                # Both slot rows are touched in one fixed order, so two reschedules
                # crossing each other's sessions cannot deadlock on PostgreSQL.
                for key in sorted([(record.day, record.session), (day, chosen.name)]):
                    if key == (day, chosen.name):
                        taken = await store.take_place(
                            self.db, conn, service.id, day, chosen.name, chosen.capacity
                        )
                        if taken is None:
                            raise _Abort(Refusal(Reason.FULL, chosen.name))
                    else:
                        await store.release_places(conn, service.id, record.day, record.session)
                if day == record.day:
                    number, label = record.queue_number, record.queue_label
                else:
                    number = await store.next_queue_number(self.db, conn, service.id, day)
                    label = queue_label(service.queue_prefix, number)
                moved = await store.move(
                    conn,
                    record,
                    day=day,
                    session=chosen.name,
                    queue_number=number,
                    queue_label=label,
                    at=now,
                )
                if not moved:
                    raise _Abort(Refusal(Reason.NOT_ACTIVE, record.status.value))
                updated = await store.by_code(conn, record.code)
                assert updated is not None
            return self._booking(updated)
        except _Abort as abort:
            if abort.refusal.reason is Reason.FULL:
                return await self._full(service, day, chosen, now)
            return abort.refusal
        except IntegrityError:
            # The unique index: the contact holds another active booking on that day.
            async with self.db.engine.connect() as conn:
                existing = await store.active_for(conn, found.contact_id, service.id, day)
            if existing is None:
                raise
            return Refusal(Reason.ALREADY_BOOKED, existing.code)

    async def cancel(self, code: str, contact_id: int | None = None) -> Booking | Refusal:
        """Cancel a booking that is still ahead and give its place back.

        With ``contact_id`` only that contact's booking is found, so a citizen cannot
        cancel someone else's by guessing a code; officers pass None.
        """
        found = await self._find(code, contact_id)
        if isinstance(found, Refusal):
            return found
        now = self.clock()
        try:
            async with self.db.begin() as conn:
                record = await store.by_code(conn, found.code, for_update=True)
                if record is None:
                    raise _Abort(Refusal(Reason.NOT_FOUND))
                self._still_changeable(record, now)
                changed = await store.change_status(
                    conn,
                    record.id,
                    allowed_from=(BookingStatus.BOOKED,),
                    to=BookingStatus.CANCELLED,
                    at=now,
                )
                if not changed:
                    raise _Abort(Refusal(Reason.NOT_ACTIVE, record.status.value))
                await store.release_places(conn, record.service_id, record.day, record.session)
                updated = await store.by_code(conn, record.code)
                assert updated is not None
        except _Abort as abort:
            return abort.refusal
        return self._booking(updated)

    async def check_in(self, code: str) -> Booking | Refusal:
        """The citizen is at the mall on the booked day: the counter may call them."""
        return await self._advance(
            code, BookingStatus.BOOKED, BookingStatus.CHECKED_IN, same_day=True
        )

    async def mark_served(self, code: str) -> Booking | Refusal:
        """The counter has served a checked-in citizen."""
        return await self._advance(
            code, BookingStatus.CHECKED_IN, BookingStatus.SERVED, same_day=False
        )

    async def mark_no_shows(self, day: date) -> int:
        """End of day: every ``booked`` booking of ``day`` becomes ``no_show``.

        Their places are given back so the day's figures add up. Refuses a future
        day, which nobody could yet have missed.
        """
        now = self.clock()
        if day > self.calendar.today(now):
            raise ValueError(f"{day} has not happened yet")
        async with self.db.begin() as conn:
            marked = await store.mark_no_shows(conn, day, now)
            for (service_id, session), count in sorted(Counter(marked).items()):
                await store.release_places(conn, service_id, day, session, count)
        return len(marked)

    async def close_days(self) -> int:
        """Mark the no-shows of every day that has ended: past days still holding
        ``booked`` places (missed while the hub was down) and today once
        ``no_show_at`` has passed. Safe to run in several processes and repeatedly."""
        now = self.clock()
        today = self.calendar.today(now)
        async with self.db.engine.connect() as conn:
            days = await store.days_with_booked_before(conn, today)
        if self.calendar.local(now).time() >= self.config.no_show_at:
            days.append(today)
        marked = 0
        for day in days:
            marked += await self.mark_no_shows(day)
        return marked

    # --- reminders --------------------------------------------------------------------------

    async def due_reminders(self) -> builtins.list[tuple[Booking, DueReminder]]:
        """Reminders due now for bookings of today and tomorrow (WITA), sent or not:
        :meth:`claim_reminder` tells which are still to send."""
        if not self.config.reminders:
            return []
        now = self.clock()
        today = self.calendar.today(now)
        rule = ReminderRule(
            day_before_at=self.config.reminder_day_before_at,
            before_session=timedelta(minutes=self.config.reminder_before_session_minutes),
            timezone=self.calendar.timezone,
        )
        async with self.db.engine.connect() as conn:
            records = await store.booked_between(conn, today, today + timedelta(days=1))
        due: builtins.list[tuple[Booking, DueReminder]] = []
        for record in records:
            booking = self._booking(record)
            if booking.session_start is None:  # a session no longer configured
                continue
            for reminder in due_reminders(
                rule, booking.day, booking.session_start, record.updated_at, now
            ):
                due.append((booking, reminder))
        return due

    async def claim_reminder(
        self, conn: AsyncConnection, booking: Booking, reminder: DueReminder
    ) -> bool:
        """In the caller's transaction: True when this caller is the one to send the
        reminder, i.e. the booking is still booked for the same day and session and no
        process has sent it yet."""
        record = await store.by_code(conn, booking.code, for_update=True)
        if (
            record is None
            or record.status is not BookingStatus.BOOKED
            or (record.day, record.session) != (booking.day, booking.session)
        ):
            return False
        return await reminder_store.claim(
            self.db,
            conn,
            booking_id=record.id,
            kind=reminder.kind.value,
            day=record.day,
            session=record.session,
            due_at=reminder.due_at,
            at=self.clock(),
        )

    # --- helpers ----------------------------------------------------------------------------

    async def _bookable_session(
        self, service: Service, day: date, name: str, now: datetime
    ) -> Session | Refusal:
        """The named session if ``day`` and the session can be booked now, else a refusal."""
        refusal = self.calendar.check(service, day, now)
        if refusal is not None:
            after = day
            if refusal.reason is Reason.BEYOND_HORIZON:
                after = self.calendar.today(now) - timedelta(days=1)
            return Refusal(
                refusal.reason, refusal.detail, await self._free_days(service, after, now)
            )
        session = self.calendar.session(service, day, name)
        if session is None or self.calendar.session_passed(session, day, now):
            reason = Reason.UNKNOWN_SESSION if session is None else Reason.SESSION_PASSED
            others = await self._free_sessions(service, day, exclude=name)
            return Refusal(reason, name, sessions=others)
        return session

    async def _full(self, service: Service, day: date, session: Session, now: datetime) -> Refusal:
        """A full session: offer the day's other sessions with room, else later days."""
        others = await self._free_sessions(service, day, exclude=session.name)
        days = () if others else await self._free_days(service, day, now)
        return Refusal(Reason.FULL, session.name, alternatives=days, sessions=others)

    async def _free_sessions(self, service: Service, day: date, exclude: str) -> tuple[str, ...]:
        return tuple(
            s.session
            for s in await self.slots(service.id, day)
            if s.bookable and s.session != exclude
        )

    async def _free_days(
        self, service: Service, after_day: date, now: datetime, count: int = 3
    ) -> tuple[date, ...]:
        """The next bookable days after ``after_day`` that still have a free place."""
        first = max(after_day + timedelta(days=1), self.calendar.today(now))
        last = self.calendar.last_bookable_day(now)
        if first > last:
            return ()
        async with self.db.engine.connect() as conn:
            used = await store.usage_between(conn, service.id, first, last)

        def has_room(day: date, session: Session) -> bool:
            capacity, taken = used.get((day, session.name), (session.capacity, 0))
            return taken < capacity and not self.calendar.session_passed(session, day, now)

        days: builtins.list[date] = []
        for day in self.calendar.bookable_days(service, after_day, now):
            if any(has_room(day, s) for s in self.calendar.sessions(service, day)):
                days.append(day)
                if len(days) >= count:
                    break
        return tuple(days)

    async def _find(self, code: str, contact_id: int | None) -> BookingRecord | Refusal:
        normal = normalise_code(code)
        if normal is None:
            return Refusal(Reason.NOT_FOUND, code)
        async with self.db.engine.connect() as conn:
            record = await store.by_code(conn, normal)
        if record is None or (contact_id is not None and record.contact_id != contact_id):
            return Refusal(Reason.NOT_FOUND, normal)
        return record

    def _still_changeable(self, record: BookingRecord, now: datetime) -> None:
        """Only a ``booked`` booking of today or later may be moved or cancelled."""
        if record.status is not BookingStatus.BOOKED:
            raise _Abort(Refusal(Reason.NOT_ACTIVE, record.status.value))
        if record.day < self.calendar.today(now):
            raise _Abort(Refusal(Reason.PAST, record.day.isoformat()))

    async def _advance(
        self, code: str, source: BookingStatus, target: BookingStatus, *, same_day: bool
    ) -> Booking | Refusal:
        found = await self._find(code, None)
        if isinstance(found, Refusal):
            return found
        now = self.clock()
        if same_day and found.day != self.calendar.today(now):
            return Refusal(Reason.WRONG_DAY, found.day.isoformat())
        async with self.db.begin() as conn:
            changed = await store.change_status(
                conn, found.id, allowed_from=(source,), to=target, at=now
            )
            record = await store.by_code(conn, found.code)
        assert record is not None
        if not changed:
            return Refusal(Reason.NOT_ACTIVE, record.status.value)
        return self._booking(record)

    def _booking(self, record: BookingRecord) -> Booking:
        service = self.catalogue.get(record.service_id)
        session = next((s for s in self.config.sessions if s.name == record.session), None)
        return Booking(
            code=record.code,
            service_id=record.service_id,
            day=record.day,
            session=record.session,
            queue_number=record.queue_number,
            queue_label=record.queue_label,
            counter=record.counter,
            status=record.status,
            channel=record.channel,
            contact_id=record.contact_id,
            created_at=record.created_at,
            requirements=tuple(service.requirements) if service else (),
            session_start=session.start if session else None,
            session_end=session.end if session else None,
            conversation_id=record.conversation_id,
            applicant_name=record.applicant_name,
            applicant_nik=record.applicant_nik,
        )

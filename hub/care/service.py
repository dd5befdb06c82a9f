"""CARE tickets: filing, moving, rating and their deadlines; the domain's one door.

Dialogs, the console, the REST API and the scheduler call :class:`CareService`.
Every change is one transaction holding the ticket's new state, its history
event and (through the :class:`TicketNotifier` the app plugs in) the message that
tells the citizen, so a citizen is told exactly what happened, once.

A reporter's NIK is kept in its own field, encrypted with the hub's
:class:`~hub.security.vault.NikVault` (never for an anonymous ticket); every text of a
ticket is stored masked (hub.store.tickets).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.care.access import (
    SYSTEM,
    Actor,
    ActorRole,
    can_read_content,
    can_see,
    may_move,
    may_reveal_nik,
)
from hub.care.classify import ObjectKind, Priority
from hub.care.sla import WorkingDays
from hub.care.status import IllegalTransition, TicketStatus, check_transition
from hub.care.ticket_ids import TicketId, find_ticket_ids, ticket_day
from hub.catalogue import Catalogue, CurrentCatalogue, current
from hub.config import CareConfig
from hub.model import utcnow
from hub.pii import mask_nik
from hub.security.vault import NikVault, SealedNikError
from hub.store import tickets as store
from hub.store.database import Database
from hub.store.tickets import AttachmentRecord, EventRecord, TicketRecord

log = logging.getLogger(__name__)

Ticket = TicketRecord
"""A ticket as the domain hands it out."""

WORKING = (
    TicketStatus.RECEIVED,
    TicketStatus.VERIFIED,
    TicketStatus.FORWARDED,
    TicketStatus.IN_PROGRESS,
)
"""Statuses with a deadline that can be breached; ``resolved`` has the closing date."""


class TicketKind(enum.StrEnum):
    COMPLAINT = "complaint"
    APPRECIATION = "appreciation"


class Escalation(enum.StrEnum):
    """What a citizen's request to escalate a ticket came to."""

    ESCALATED = "escalated"
    """Past its deadline: now with a supervisor (``needs_supervisor``), who is told."""
    ALREADY = "already"
    """Already with a supervisor."""
    NOT_LATE = "not_late"
    """Its deadline has not passed yet: the citizen is told the deadline instead."""
    NOT_OPEN = "not_open"
    """Resolved, closed or rejected: nothing left to escalate."""


class TicketNotFound(LookupError):
    """No ticket with that id (or not one the caller may see)."""


class NotAllowed(PermissionError):
    """The actor's role or agencies do not allow this (the console answers 403)."""


@dataclass(frozen=True, slots=True)
class TicketDetail:
    ticket: Ticket
    history: list[EventRecord] = field(default_factory=list)
    attachments: list[AttachmentRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a ticket, as the citizen is told of it."""

    kind: str
    """status, rating, assign, note, sla_breach, escalation"""
    actor: Actor
    from_status: str | None = None
    to_status: str | None = None
    note: str = ""


class TicketNotifier(Protocol):
    """Plugged in by the app: tells the citizen and the console; the domain knows no channel."""

    async def ticket_changed(self, conn: AsyncConnection, ticket: Ticket, change: Change) -> None:
        """Inside the change's transaction: queue what the citizen is told."""

    async def committed(self, ticket: Ticket, change: Change) -> None:
        """After commit: wake the dispatcher, tell the console."""


class _Silent:
    async def ticket_changed(self, conn: AsyncConnection, ticket: Ticket, change: Change) -> None:
        return None

    async def committed(self, ticket: Ticket, change: Change) -> None:
        return None


@dataclass(frozen=True, slots=True)
class DeadlineReport:
    breached: list[Ticket]
    closed: list[Ticket]


class CareService:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue | CurrentCatalogue,
        config: CareConfig,
        working_days: WorkingDays,
        clock: Callable[[], datetime] = utcnow,
        notifier: TicketNotifier | None = None,
        vault: NikVault | None = None,
    ) -> None:
        """Without ``vault`` (unit tests) no reporter's NIK can be kept or shown."""
        self.db = db
        self.vault = vault
        self.catalogues = current(catalogue)
        self.config = config
        self.working_days = working_days
        self.clock = clock
        self.notifier: TicketNotifier = notifier or _Silent()

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue in use (followed on reload)."""
        return self.catalogues.catalogue

    # --- filing and reading -----------------------------------------------------------------

    async def file(
        self,
        *,
        kind: TicketKind,
        contact_id: int,
        channel: str,
        description: str,
        conversation_id: int | None = None,
        service_id: str | None = None,
        category: str = "",
        agency: str | None = None,
        incident_when: str = "",
        incident_where: str = "",
        anonymous: bool = False,
        confidential: bool = False,
        attachments: Sequence[dict[str, Any]] = (),
        reporter_nik: str | None = None,
        priority: Priority = Priority.NORMAL,
        object_kind: ObjectKind | None = None,
    ) -> Ticket:
        """A new ticket in ``received``, with its deadline to be verified (sooner for a
        high-priority one).

        ``reporter_nik`` (the NIK in clear, any spelling) is stored encrypted; an
        anonymous ticket keeps none. ValueError when it is no NIK."""
        if not description.strip():
            raise ValueError("a ticket needs a description")
        sealed_nik = None
        if reporter_nik and not anonymous:
            if self.vault is None:
                raise ValueError("no NIK vault: a reporter's NIK cannot be kept")
            sealed_nik = self.vault.encrypt(reporter_nik)
        service = self.catalogue.get(service_id) if service_id else None
        if service is not None:
            agency = agency or service.agency
            category = category or service.name_id
        now = self.clock()
        day = ticket_day(now, self.working_days.timezone)
        async with self.db.begin() as conn:
            number = await store.next_number(self.db, conn, day)
            ticket = await store.insert(
                conn,
                ticket_id=str(TicketId(day, number)),
                kind=kind.value,
                status=TicketStatus.RECEIVED.value,
                category=category[:200],
                service_id=service.id if service else None,
                agency=agency,
                description=description,
                incident_when=incident_when[:200],
                incident_where=incident_where[:200],
                anonymous=anonymous,
                confidential=confidential,
                contact_id=contact_id,
                conversation_id=conversation_id,
                channel=channel,
                reporter_nik=sealed_nik,
                priority=Priority(priority).value,
                object=ObjectKind(object_kind).value if object_kind else None,
                created_at=now,
                updated_at=now,
                sla_due_at=self.working_days.deadline(now, self.verify_days(priority)),
            )
            await store.add_attachments(conn, ticket.pk, attachments, now)
            await store.add_event(
                conn,
                ticket.pk,
                at=now,
                actor="citizen",
                kind="status",
                to_status=TicketStatus.RECEIVED.value,
            )
        await self.notifier.committed(
            ticket, Change("status", Actor("citizen", ActorRole.CITIZEN), None, ticket.status)
        )
        return ticket

    async def get(self, ticket_id: str) -> TicketDetail | None:
        """A ticket with its history and attachments, by its id in any spelling."""
        found = find_ticket_ids(ticket_id)
        if not found:
            return None
        async with self.db.engine.connect() as conn:
            ticket = await store.by_ticket_id(conn, str(found[0]))
            if ticket is None:
                return None
            return TicketDetail(
                ticket,
                await store.events(conn, ticket.pk),
                await store.attachments(conn, ticket.pk),
            )

    async def for_contact(self, contact_id: int, limit: int = 20) -> list[Ticket]:
        """A citizen's own tickets, newest first, from any of their channels."""
        async with self.db.engine.connect() as conn:
            return await store.for_contact(conn, contact_id, limit)

    async def search(
        self,
        viewer: Actor,
        *,
        statuses: Sequence[str] = (),
        kind: str | None = None,
        agency: str | None = None,
        breached: bool | None = None,
        needs_supervisor: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Ticket]:
        """Tickets the viewer may see, newest first."""
        agencies: list[str] | None = None
        if not viewer.oversees and viewer.agencies:
            agencies = [a for a in viewer.agencies if agency is None or a == agency]
        elif agency is not None:
            agencies = [agency]
        async with self.db.engine.connect() as conn:
            return await store.search(
                conn,
                statuses=statuses,
                kind=kind,
                agencies=agencies,
                breached=breached,
                needs_supervisor=needs_supervisor,
                limit=limit,
                offset=offset,
            )

    async def visible(self, viewer: Actor, ticket_id: str) -> TicketDetail:
        """The ticket if ``viewer`` may see it; TicketNotFound otherwise (no hint it exists)."""
        detail = await self.get(ticket_id)
        if detail is None or not can_see(viewer, detail.ticket.agency):
            raise TicketNotFound(ticket_id)
        return detail

    def reporter_nik(self, viewer: Actor, ticket: Ticket, *, full: bool = False) -> str | None:
        """The reporter's NIK as ``viewer`` may see it: masked (``5103••••••••0001``) for
        whoever may see the reporter, in full only when ``full`` and the viewer may reveal
        it (NotAllowed otherwise; the caller audits). None when there is none to show:
        an anonymous ticket, a confidential one the viewer may not read, or no NIK kept."""
        if full and not may_reveal_nik(viewer):
            raise NotAllowed("only supervisors and admins may see a NIK in full")
        if (
            ticket.anonymous
            or not ticket.reporter_nik
            or self.vault is None
            or not can_see(viewer, ticket.agency)
            or not can_read_content(viewer, ticket.confidential)
        ):
            return None
        try:
            nik = self.vault.decrypt(ticket.reporter_nik)
        except SealedNikError:
            log.warning("a reporter's NIK cannot be decrypted: is a key missing from nik_keys?")
            return None
        return nik if full else mask_nik(nik)

    # --- changes ----------------------------------------------------------------------------

    async def change_status(
        self, ticket_id: str, target: TicketStatus | str, actor: Actor, note: str = ""
    ) -> Ticket:
        """Move a ticket; IllegalTransition (409), NotAllowed (403), TicketNotFound (404)."""
        target = TicketStatus(target)
        if target is TicketStatus.REJECTED and not note.strip():
            raise IllegalTransition("a rejection needs a reason")
        detail = await self.visible(actor, ticket_id)
        current = detail.ticket
        check_transition(TicketStatus(current.status), target)
        if not may_move(actor, current.agency, current.confidential, current.status, target):
            raise NotAllowed(f"{actor.role.value} may not move a ticket to {target.value}")
        change = Change("status", actor, current.status, target.value, note)
        return await self._apply(current, change, self._status_values(current, target))

    async def assign(self, ticket_id: str, officer_id: int | None, actor: Actor) -> Ticket:
        """Give a ticket to an officer (supervisors; an officer may take one for themself)."""
        detail = await self.visible(actor, ticket_id)
        if not actor.oversees and officer_id != actor.officer_id:
            raise NotAllowed("officers may only assign tickets to themselves")
        change = Change("assign", actor, note=f"officer:{officer_id}" if officer_id else "")
        return await self._apply(detail.ticket, change, {"assigned_to": officer_id})

    async def add_note(self, ticket_id: str, actor: Actor, note: str) -> Ticket:
        detail = await self.visible(actor, ticket_id)
        if not note.strip():
            raise ValueError("empty note")
        return await self._apply(detail.ticket, Change("note", actor, note=note), {})

    async def rate(
        self, ticket_id: str, contact_id: int, rating: int, comment: str = ""
    ) -> Ticket | None:
        """The citizen's rating of a resolved ticket: a good one closes it, a low one
        reopens it for a supervisor. None when it is not theirs or not awaiting a rating."""
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1 to 5")
        detail = await self.get(ticket_id)
        if detail is None or detail.ticket.contact_id != contact_id:
            return None
        ticket = detail.ticket
        if ticket.status != TicketStatus.RESOLVED.value or ticket.rating is not None:
            return None
        now = self.clock()
        citizen = Actor("citizen", ActorRole.CITIZEN)
        values: dict[str, Any] = {
            "rating": rating,
            "rating_comment": comment or None,
            "rated_at": now,
        }
        if rating <= self.config.low_rating:
            target = TicketStatus.IN_PROGRESS
            values |= self._status_values(ticket, target) | {"needs_supervisor": True}
        else:
            target = TicketStatus.CLOSED
            values |= self._status_values(ticket, target)
        change = Change(
            "rating", citizen, ticket.status, target.value, f"{rating}/5 {comment}".strip()
        )
        return await self._apply(ticket, change, values)

    async def check_deadlines(self) -> DeadlineReport:
        """Mark every breached deadline once (escalated to supervisors) and close the
        resolved tickets the citizen left unanswered; safe in several processes."""
        now = self.clock()
        async with self.db.begin() as conn:
            breached = await store.mark_breaches(conn, now, [s.value for s in WORKING])
            for ticket in breached:
                await store.add_event(
                    conn, ticket.pk, at=now, actor="system", kind="sla_breach", note="SLA"
                )
        for ticket in breached:
            await self.notifier.committed(ticket, Change("sla_breach", SYSTEM, ticket.status))
        closed: list[Ticket] = []
        async with self.db.engine.connect() as conn:
            unanswered = await store.overdue(conn, now, TicketStatus.RESOLVED.value)
        for ticket in unanswered:
            change = Change("status", SYSTEM, ticket.status, TicketStatus.CLOSED.value, "auto")
            try:
                closed.append(
                    await self._apply(
                        ticket, change, self._status_values(ticket, TicketStatus.CLOSED)
                    )
                )
            except IllegalTransition:
                continue  # rated or moved meanwhile
        return DeadlineReport(breached, closed)

    async def escalate(self, ticket_id: str, contact_id: int) -> tuple[Escalation, Ticket] | None:
        """The citizen asks a supervisor to take their ticket: granted when its deadline
        has passed. Escalated as the deadline check does (``needs_supervisor``, an
        ``escalation`` event, the consoles told); a ticket not yet late stays as it is.
        None when the ticket is not the citizen's."""
        detail = await self.get(ticket_id)
        if detail is None or detail.ticket.contact_id != contact_id:
            return None
        ticket = detail.ticket
        if TicketStatus(ticket.status) not in WORKING:
            return Escalation.NOT_OPEN, ticket
        if ticket.needs_supervisor:
            return Escalation.ALREADY, ticket
        if ticket.sla_due_at is None or ticket.sla_due_at > self.clock():
            return Escalation.NOT_LATE, ticket
        citizen = Actor("citizen", ActorRole.CITIZEN)
        change = Change("escalation", citizen, ticket.status, ticket.status, "diminta pelapor")
        try:
            updated = await self._apply(ticket, change, {"needs_supervisor": True})
        except IllegalTransition:
            return None  # moved meanwhile: the citizen asks again and sees its new status
        return Escalation.ESCALATED, updated

    # --- helpers ----------------------------------------------------------------------------

    def verify_days(self, priority: Priority | str) -> int:
        if priority == Priority.HIGH:
            return self.config.priority_verify_within_days
        return self.config.verify_within_days

    def _follow_up_days(self, ticket: Ticket) -> int:
        if ticket.priority == Priority.HIGH:
            return self.config.priority_follow_up_within_days
        return self.config.follow_up_within_days

    def _status_values(self, ticket: Ticket, target: TicketStatus) -> dict[str, Any]:
        """The columns a move to ``target`` sets: status, the new stage's deadline."""
        now = self.clock()
        values: dict[str, Any] = {"status": target.value}
        if target in (TicketStatus.RECEIVED, TicketStatus.VERIFIED):
            return values  # the verify deadline runs until the ticket is forwarded
        values["sla_breached_at"] = None
        if target is TicketStatus.FORWARDED:
            values["sla_due_at"] = self.working_days.deadline(now, self._follow_up_days(ticket))
        elif target is TicketStatus.IN_PROGRESS:
            if ticket.status == TicketStatus.RESOLVED.value:  # reopened
                values["sla_due_at"] = self.working_days.deadline(now, self._follow_up_days(ticket))
                values["resolved_at"] = None
            else:
                values.pop("sla_breached_at")  # same stage as forwarded: keep its deadline
        elif target is TicketStatus.RESOLVED:
            values["resolved_at"] = now
            values["sla_due_at"] = self.working_days.deadline(now, self.config.close_after_days)
        else:  # closed, rejected
            values["sla_due_at"] = None
            values["closed_at"] = now
        return values

    async def _apply(self, ticket: Ticket, change: Change, values: dict[str, Any]) -> Ticket:
        now = self.clock()
        async with self.db.begin() as conn:
            changed = await store.update_if(
                conn, ticket.pk, expected_status=ticket.status, values={**values, "updated_at": now}
            )
            if not changed:
                raise IllegalTransition("the ticket changed meanwhile; reload and try again")
            await store.add_event(
                conn,
                ticket.pk,
                at=now,
                actor=change.actor.name,
                kind=change.kind,
                from_status=change.from_status,
                to_status=change.to_status,
                note=change.note,
            )
            updated = await store.by_ticket_id(conn, ticket.ticket_id)
            assert updated is not None
            await self.notifier.ticket_changed(conn, updated, change)
        await self.notifier.committed(updated, change)
        return updated

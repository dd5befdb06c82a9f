"""What an officer is shown of a CARE ticket, decided here rather than in the template.

Privacy is enforced before rendering: an anonymous ticket's reporter, and a
confidential ticket's content (description, incident, attachments, notes, rating
comment) for those who may not read it, never reach the template at all, so no
template slip can show them. Addresses are cut to their last four characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.addresses import mask_address
from hub.care.access import Actor, ActorRole, can_know_reporter, can_read_content, may_move
from hub.care.service import TicketDetail
from hub.care.status import TicketStatus, allowed_next
from hub.console.officer_login import Officer
from hub.store import contacts
from hub.store.tickets import AttachmentRecord, EventRecord, TicketRecord

STATUS_LABELS = {
    "received": "Diterima",
    "verified": "Diverifikasi",
    "forwarded": "Diteruskan",
    "in_progress": "Diproses",
    "resolved": "Selesai",
    "closed": "Ditutup",
    "rejected": "Ditolak",
}
"""The citizens' own words for the statuses, shortened for tables."""
KIND_LABELS = {"complaint": "Pengaduan", "appreciation": "Apresiasi"}
CHANNEL_LABELS = {
    "webchat": "Web chat",
    "whatsapp": "WhatsApp",
    "whatsapp_cloud": "WhatsApp",
    "telegram": "Telegram",
    "sms": "SMS",
    "email": "Email",
    "cli": "Terminal",
}
CLOSED_STATUSES = frozenset({TicketStatus.CLOSED.value, TicketStatus.REJECTED.value})
HIDDEN = "Isi rahasia — hanya untuk supervisor"


def care_actor(officer: Officer) -> Actor:
    """The CARE domain's view of a console officer (named ``officer:<id>`` in histories)."""
    return Actor(
        f"officer:{officer.id}", ActorRole(officer.role.value), officer.agencies, officer.id
    )


def ticket_agencies(actor: Actor) -> list[str] | None:
    """The agencies whose tickets ``actor`` counts; None means all of them."""
    return None if actor.oversees or not actor.agencies else list(actor.agencies)


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str
    channel: str
    address: str
    """Masked."""
    nik: str = ""
    """The NIK the reporter gave, masked (``5103••••••••0001``); empty when none was kept."""


async def reporter(conn: AsyncConnection, ticket: TicketRecord) -> Reporter | None:
    """Who filed a named ticket, as far as the console may show it; None when anonymous."""
    if ticket.anonymous:
        return None
    address = await contacts.address_on(conn, ticket.contact_id, ticket.channel)
    return Reporter(
        name=await contacts.display_name(conn, ticket.contact_id),
        channel=CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        address=mask_address(address) if address else "",
    )


def actor_label(name: str, officers: Mapping[int, str]) -> str:
    """``officer:5`` → the officer's name; the citizen, the system and API callers in words."""
    if name == "citizen":
        return "Pelapor"
    if name == "system":
        return "Sistem"
    if name.startswith("api:"):
        return f"Sistem ({name[4:]})"
    if name.startswith("officer:") and name[8:].isdigit():
        return officers.get(int(name[8:]), name)
    return name


@dataclass(frozen=True, slots=True)
class HistoryRow:
    event: EventRecord
    actor: str
    what: str
    note: str


def _what(event: EventRecord, officers: Mapping[int, str]) -> str:
    def status(value: str | None) -> str:
        return STATUS_LABELS.get(value or "", value or "")

    if event.kind == "status":
        if event.from_status:
            return f"Status: {status(event.from_status)} → {status(event.to_status)}"
        return f"Status: {status(event.to_status)}"
    if event.kind == "assign":
        if not event.note:
            return "Penugasan dilepas"
        return "Ditugaskan ke " + actor_label(event.note, officers)
    if event.kind == "rating":
        return f"Penilaian pelapor: {status(event.from_status)} → {status(event.to_status)}"
    if event.kind == "sla_breach":
        return "Melewati batas waktu (SLA)"
    if event.kind == "escalation":
        return "Dieskalasi ke supervisor atas permintaan pelapor"
    if event.kind == "note":
        return "Catatan"
    return event.kind


def history(
    events: Sequence[EventRecord], officers: Mapping[int, str], content: bool
) -> list[HistoryRow]:
    """The history in words; notes only for those who may read the ticket's content."""
    rows: list[HistoryRow] = []
    for event in events:
        note = "" if event.kind in ("assign", "sla_breach") else event.note
        if not content and note:
            note = HIDDEN
        rows.append(
            HistoryRow(event, actor_label(event.actor, officers), _what(event, officers), note)
        )
    return rows


@dataclass(frozen=True, slots=True)
class AttachmentView:
    record: AttachmentRecord
    show: str
    """``image`` (an https image: the CSP loads only those), ``link`` (http/https) or ``text``
    (a provider's file id such as ``telegram-file:``, never a link: it could be any scheme)."""


def attachment_view(record: AttachmentRecord) -> AttachmentView:
    scheme = urlsplit(record.url).scheme.lower()
    if scheme == "https" and record.content_type.startswith("image/"):
        return AttachmentView(record, "image")
    if scheme in ("http", "https"):
        return AttachmentView(record, "link")
    return AttachmentView(record, "text")


def moves(ticket: TicketRecord, actor: Actor) -> list[str]:
    """The statuses this actor may move the ticket to now: the procedure's and their role's."""
    current = TicketStatus(ticket.status)
    return [
        target.value
        for target in TicketStatus
        if target in allowed_next(current)
        and may_move(actor, ticket.agency, ticket.confidential, current.value, target)
    ]


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as one viewer may see it."""

    ticket: TicketRecord
    content: bool
    """False: a confidential ticket shown to an officer; its content is left out."""
    reporter: Reporter | None
    history: list[HistoryRow]
    attachments: list[AttachmentView]
    moves: list[str]

    @property
    def open(self) -> bool:
        return self.ticket.status not in CLOSED_STATUSES


def ticket_view(
    detail: TicketDetail, actor: Actor, officers: Mapping[int, str], who: Reporter | None
) -> TicketView:
    ticket = detail.ticket
    content = can_read_content(actor, ticket.confidential)
    if not content:
        ticket = _without_content(ticket)
    return TicketView(
        ticket=ticket,
        content=content,
        reporter=who if can_know_reporter(actor, ticket.confidential, ticket.anonymous) else None,
        history=history(detail.history, officers, content),
        attachments=[attachment_view(a) for a in detail.attachments] if content else [],
        moves=moves(detail.ticket, actor),
    )


def _without_content(ticket: TicketRecord) -> TicketRecord:
    return replace(
        ticket,
        description="",
        incident_when="",
        incident_where="",
        rating_comment=None,
    )

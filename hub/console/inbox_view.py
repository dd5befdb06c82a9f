"""What the inbox shows, shaped once for the page and for its JSON twin.

The server-rendered page and ``inbox.js`` (which redraws it live) draw the same
fields, so both come from here. Addresses are masked before they leave the server:
an officer needs to tell two citizens apart, not to copy their phone number.
Labels are Indonesian, like the rest of the console.

CARE discretion is applied here too, with the ticket page's rule
(``hub.care.access.conversation_access``): a conversation of a contact who filed a
confidential ticket is listed without name, address or preview for those who may
not read it (and without preview for anyone: reading it is audited, on its page);
an anonymous reporter's name and address are never shown, and their conversation
pages show that conversation only, not the history that would say who they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.addresses import mask_address
from hub.care.access import ConversationAccess, Discretion, conversation_access
from hub.console.officer_login import Officer, Role
from hub.console.ticket_view import care_actor
from hub.model import ConversationStatus
from hub.store import inbox as inbox_store
from hub.store.inbox import HistoryMessage, WaitingConversation
from hub.store.tables import conversations, officers

NO_NAME = "Warga"
RESTRICTED_NAME = "Laporan rahasia — hanya supervisor"
"""The inbox row of a confidential reporter's conversation, for those who may not open it."""
ANONYMOUS_NAME = "Anonim"
CONFIDENTIAL_PREVIEW = "Laporan rahasia — buka percakapan untuk membaca (dicatat di log audit)"
TIME_FORMAT = "%d-%m-%Y %H:%M"

CHANNEL_LABELS = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "whatsapp_cloud": "WhatsApp",
    "sms": "SMS",
    "webchat": "Web chat",
    "email": "Email",
    "cli": "Terminal",
}
STATUS_LABELS = {
    ConversationStatus.BOT.value: "Dilayani bot",
    ConversationStatus.HANDOFF.value: "Menunggu petugas",
    ConversationStatus.OFFICER.value: "Ditangani petugas",
    ConversationStatus.CLOSED.value: "Ditutup",
}
REASON_LABELS = {
    "asked": "Warga minta petugas",
    "angry": "Warga kecewa",
    "repeated": "Pengaduan berulang",
    "failures": "Bot tidak memahami",
    "flood": "Email beruntun (mungkin robot)",
    "unverified": "Pengirim email belum terverifikasi",
}
DELIVERY_LABELS = {
    "queued": "Dalam antrean",
    "sent": "Terkirim",
    "delivered": "Diterima",
    "read": "Dibaca",
    "failed": "Gagal",
}


def web_url(url: str) -> str:
    """``url`` if it is an http(s) address, else "" (never a ``javascript:`` link)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def _label(labels: dict[str, str], key: str | None) -> str:
    return "" if not key else labels.get(key, key)


@dataclass(frozen=True, slots=True)
class Permissions:
    """Which actions the page offers this officer; the handlers check the same rules."""

    claim: bool
    reply: bool
    release: bool
    close: bool


def permissions(officer: Officer, status: str, claimed_by: int | None) -> Permissions:
    """A waiting conversation may be claimed by anyone; a claimed one is its officer's,
    or a supervisor's, to answer and end. An unclaimed one may be ended by anyone
    (spam, a citizen who left)."""
    waiting = status == ConversationStatus.HANDOFF.value
    claimed = status == ConversationStatus.OFFICER.value
    mine = claimed and (claimed_by == officer.id or officer.role >= Role.SUPERVISOR)
    return Permissions(claim=waiting, reply=mine, release=waiting or mine, close=waiting or mine)


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    name: str
    channel: str
    channel_label: str
    address: str
    """Masked."""
    status: str
    status_label: str
    reason: str
    reason_label: str
    waiting_since: str
    """WITA, ``dd-mm-yyyy HH:MM``."""
    last_text: str
    claimed_by: int | None
    claimed_by_name: str
    url: str
    confidential: bool
    """The contact filed a confidential CARE ticket: only supervisors open it."""
    anonymous: bool
    """The contact filed an anonymous CARE ticket: nobody sees who they are."""
    readable: bool
    """Whether this viewer may open the conversation."""
    bot_answers: bool = False
    """Waiting, and the bot still answers clear requests until someone claims it."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AttachmentView:
    url: str
    """An http(s) URL, or "" when the file is only reachable through the provider."""
    label: str
    is_image: bool


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    conversation_id: int
    direction: str
    channel: str
    channel_label: str
    author: str
    author_label: str
    text: str
    time: str
    attachments: tuple[AttachmentView, ...]
    delivery_status: str
    delivery_label: str
    delivery_error: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ConversationView:
    row: InboxRow
    messages: list[MessageView]
    whole_history: bool
    """False: only this conversation's messages (an anonymous reporter's)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation": self.row.to_json(),
            "messages": [m.to_json() for m in self.messages],
            "whole_history": self.whole_history,
        }


class Shaper:
    """Turns store rows into views, with the officers' names and the console's zone."""

    def __init__(self, zone: tzinfo, names: dict[int, str], addresses: dict[int, str]) -> None:
        self.zone = zone
        self.names = names
        self.addresses = addresses

    def time(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.zone).strftime(TIME_FORMAT)

    def officer_name(self, officer_id: int | None) -> str:
        if officer_id is None:
            return ""
        return self.names.get(officer_id, f"#{officer_id}")

    def author(self, author: str) -> str:
        if author == "citizen":
            return NO_NAME
        if author == "bot":
            return "Bot"
        kind, _, raw_id = author.partition(":")
        if kind == "officer" and raw_id.isdigit():
            return f"Petugas {self.officer_name(int(raw_id))}"
        return author

    def row(self, c: WaitingConversation, access: ConversationAccess) -> InboxRow:
        """The row as this viewer may see it: nothing the rule withholds is in it."""
        name = c.display_name.strip() or NO_NAME
        address = mask_address(self.addresses.get(c.id, ""))
        last_text = CONFIDENTIAL_PREVIEW if c.confidential else c.last_text
        if not access.identity:
            name, address = ANONYMOUS_NAME, ""
        if not access.read:
            name, address, last_text = RESTRICTED_NAME, "", ""
        return InboxRow(
            id=c.id,
            name=name,
            channel=c.channel,
            channel_label=_label(CHANNEL_LABELS, c.channel),
            address=address,
            status=c.status,
            status_label=_label(STATUS_LABELS, c.status),
            reason=c.handoff_reason or "",
            reason_label=_label(REASON_LABELS, c.handoff_reason),
            waiting_since=self.time(c.handoff_at),
            last_text=last_text,
            claimed_by=c.claimed_by,
            claimed_by_name=self.officer_name(c.claimed_by),
            url=f"/console/conversations/{c.id}",
            confidential=c.confidential,
            anonymous=c.anonymous,
            readable=access.read,
            bot_answers=c.bot_answers,
        )

    def message(self, m: HistoryMessage) -> MessageView:
        status = (m.delivery_status or "") if m.direction == "outbound" else ""
        return MessageView(
            id=m.id,
            conversation_id=m.conversation_id,
            direction=m.direction,
            channel=m.channel,
            channel_label=_label(CHANNEL_LABELS, m.channel),
            author=m.author,
            author_label=self.author(m.author),
            text=m.text,
            time=self.time(m.created_at),
            attachments=tuple(_attachment(a) for a in m.attachments),
            delivery_status=status,
            delivery_label=_label(DELIVERY_LABELS, status),
            delivery_error=(m.delivery_error or "") if status else "",
        )


def _attachment(data: dict[str, Any]) -> AttachmentView:
    url = web_url(str(data.get("url") or ""))
    content_type = str(data.get("content_type") or "")
    label = str(data.get("filename") or data.get("caption") or content_type or "lampiran")
    return AttachmentView(
        url=url, label=label, is_image=bool(url) and content_type.startswith("image/")
    )


async def _names(conn: AsyncConnection) -> dict[int, str]:
    rows = await conn.execute(
        sa.select(officers.c.id, officers.c.display_name, officers.c.username)
    )
    return {int(r.id): str(r.display_name or r.username) for r in rows}


async def _addresses(conn: AsyncConnection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(conversations.c.id, conversations.c.address).where(conversations.c.id.in_(ids))
    )
    return {int(r.id): str(r.address) for r in rows}


def access_of(officer: Officer, conversation: WaitingConversation) -> ConversationAccess:
    """What ``officer`` may see of ``conversation``: the ticket page's rule, one place."""
    discretion = Discretion(conversation.confidential, conversation.anonymous)
    return conversation_access(care_actor(officer), discretion)


async def inbox_rows(conn: AsyncConnection, zone: tzinfo, officer: Officer) -> list[InboxRow]:
    """Conversations waiting for or held by officers, the longest-waiting first, as
    ``officer`` may see them."""
    waiting = await inbox_store.waiting(conn)
    ids = [c.id for c in waiting]
    shaper = Shaper(zone, await _names(conn), await _addresses(conn, ids))
    return [shaper.row(c, access_of(officer, c)) for c in waiting]


async def conversation_view(
    conn: AsyncConnection, found: WaitingConversation, zone: tzinfo, access: ConversationAccess
) -> ConversationView:
    """One conversation with its contact's whole history over every channel, or only its
    own messages when the viewer may not know who the contact is. The caller has
    checked ``access.read``."""
    if not access.read:
        raise PermissionError("conversation_view needs read access")
    shaper = Shaper(zone, await _names(conn), await _addresses(conn, [found.id]))
    only = None if access.identity else found.id
    history = await inbox_store.history(conn, found.contact_id, conversation_id=only)
    return ConversationView(
        shaper.row(found, access), [shaper.message(m) for m in history], only is None
    )

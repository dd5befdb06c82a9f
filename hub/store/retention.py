"""Retention: what a closed conversation keeps once its purpose is over.

UU PDP 27/2022 asks a public service to keep personal data no longer than its
purpose needs. A conversation closed longer ago than the retention period (or left
with the bot and silent that long: chat channels never close one) loses
what a citizen said and sent (message texts, provider payloads, attachments and
their files, the bot's state, the mail subject and thread, the outbox copies of its
sent replies), and keeps what the mall's figures are made of: every message row
with its direction, channel, intent, times and delivery status, and every ticket
with its status history, agency, deadlines and rating. So the dashboard and the
reports count the same before and after a purge.

A complaint's evidence stays while the complaint is open: a conversation is left
alone, whatever its age, while one of its tickets is not closed or rejected, or
was closed more recently than the retention period (the citizen may still dispute
the closure). A closed ticket's own description, reporter NIK and attachments go
with its conversation: its status history and figures remain the administrative
record, and keeping the text would keep exactly what the law asks to let go. So do
the applicants (name and NIK) of the conversation's bookings, which are all behind
the citizen by then, and the applicant a contact let us remember once none of their
conversations is left unpurged (they have been silent for the whole period).

The purge claims conversations in batches, each in its own transaction, by setting
``purged_at`` with a conditional UPDATE (and ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), so several processes purging at once split the work and a purged
conversation is never purged again. Files are deleted inside the transaction that
drops their references: a failed commit leaves a reference to a missing file
rather than a file nothing points to any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.model import ConversationStatus, utcnow
from hub.store.database import Database
from hub.store.outbox import UNSENT
from hub.store.tables import (
    bookings,
    contacts,
    conversations,
    messages,
    outbox,
    ticket_attachments,
    tickets,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 200
"""Conversations purged per transaction: short transactions, little memory."""

FINISHED_TICKETS = ("closed", "rejected")
"""The end states of ``hub.care.status.TicketStatus`` (the store does not import care)."""

Locate = Callable[[str], Path | None]
"""An attachment's URL to the file the hub keeps for it; None for a URL of a provider's."""


def _nowhere(url: str) -> Path | None:
    return None


@dataclass(slots=True)
class PurgeReport:
    """What a purge removed (or, dry, would remove)."""

    conversations: int = 0
    messages: int = 0
    """Messages whose text and payload were emptied (the rows stay)."""
    attachments: int = 0
    """Attachment references: on messages and on tickets."""
    files: int = 0
    file_bytes: int = 0
    outbox: int = 0
    """Outbox rows of finished sends whose payload was emptied."""
    tickets: int = 0
    """Closed tickets whose description, NIK and attachments were removed."""
    applicants: int = 0
    """Applicants (name and NIK) removed: of bookings, and remembered by a contact."""

    def add(self, other: PurgeReport) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def eligible(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Conversations whose content may go, not purged yet:

    - closed before ``cutoff``, or left with the bot and idle since before ``cutoff``
      (chat channels never close a bot conversation themselves, so without this a
      WhatsApp or Telegram history would be kept for ever; one waiting for or with an
      officer is left to the officers);
    - no message since ``cutoff`` (a notice after closing counts) and none unprocessed;
    - no reply waiting in the outbox and no booking still ahead (its reminders come
      into this conversation);
    - no ticket open, or closed after ``cutoff``.
    """
    ticket_kept = sa.exists().where(
        tickets.c.conversation_id == conversations.c.id,
        sa.or_(
            tickets.c.status.not_in(FINISHED_TICKETS),
            tickets.c.closed_at.is_(None),
            tickets.c.closed_at >= cutoff,
        ),
    )
    recent = sa.exists().where(
        messages.c.conversation_id == conversations.c.id,
        sa.or_(messages.c.created_at >= cutoff, messages.c.processing == "pending"),
    )
    unsent = sa.exists().where(
        outbox.c.conversation_id == conversations.c.id, outbox.c.status.in_(UNSENT)
    )
    booked = sa.exists().where(
        bookings.c.conversation_id == conversations.c.id, bookings.c.status == "booked"
    )
    closed = sa.and_(
        conversations.c.status == ConversationStatus.CLOSED.value,
        conversations.c.closed_at < cutoff,
    )
    idle = sa.and_(
        conversations.c.status == ConversationStatus.BOT.value,
        conversations.c.updated_at < cutoff,
    )
    return sa.and_(
        sa.or_(closed, idle),
        conversations.c.purged_at.is_(None),
        ~recent,
        ~unsent,
        ~booked,
        ~ticket_kept,
    )


class Retention:
    """Purges conversations past the retention period; used by ``omnihub purge`` and the
    scheduler's daily job alike."""

    def __init__(
        self,
        db: Database,
        locate: Locate = _nowhere,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.db = db
        self.locate = locate
        self.clock = clock
        self.batch_size = batch_size

    async def purge(
        self,
        older_than: timedelta,
        *,
        dry_run: bool = False,
        stopping: Callable[[], bool] = lambda: False,
    ) -> PurgeReport:
        """Purge (or with ``dry_run`` only count) conversations closed before now minus
        ``older_than``. ``stopping`` is asked between batches: a hub shutting down ends
        a long first purge after the batch in hand, and the next run goes on."""
        cutoff = self.clock() - older_than
        total = PurgeReport()
        if dry_run:
            after = 0
            while ids := await self._page(cutoff, after):
                async with self.db.engine.connect() as conn:
                    total.add(await self._count(conn, ids))
                after = ids[-1]
            return total
        while not stopping():
            async with self.db.begin() as conn:
                batch = await self._purge_batch(conn, cutoff)
            if batch is None:
                break
            total.add(batch)
        if total.conversations:
            log.info("conversations purged", extra={"counts": _as_dict(total)})
        return total

    async def _page(self, cutoff: datetime, after: int) -> list[int]:
        async with self.db.engine.connect() as conn:
            rows = await conn.scalars(
                sa.select(conversations.c.id)
                .where(eligible(cutoff), conversations.c.id > after)
                .order_by(conversations.c.id)
                .limit(self.batch_size)
            )
            return [int(i) for i in rows]

    async def _purge_batch(self, conn: AsyncConnection, cutoff: datetime) -> PurgeReport | None:
        """Claim and purge one batch; None when nothing could be claimed."""
        candidates = list(
            await conn.scalars(
                sa.select(conversations.c.id)
                .where(eligible(cutoff))
                .order_by(conversations.c.id)
                .limit(self.batch_size)
                # PostgreSQL: another process purging takes other rows instead of waiting.
                .with_for_update(skip_locked=True)
            )
        )
        if not candidates:
            return None
        now = self.clock()
        ids = [
            int(i)
            for i in await conn.scalars(
                sa.update(conversations)
                .where(conversations.c.id.in_(candidates), eligible(cutoff))
                .values(
                    # An idle bot conversation is closed now: the citizen's next message
                    # starts a new one instead of continuing an emptied dialog.
                    status=ConversationStatus.CLOSED.value,
                    closed_at=sa.func.coalesce(conversations.c.closed_at, now),
                    purged_at=now,
                    state={},
                    subject=None,
                    thread=sa.null(),
                )
                .returning(conversations.c.id)
            )
        ]
        if not ids:
            return None  # taken or changed meanwhile: the next run looks again
        report = await self._count(conn, ids)
        paths = await self._paths(conn, ids)
        await conn.execute(
            sa.update(messages)
            .where(messages.c.conversation_id.in_(ids))
            .values(
                text="",
                raw=sa.null(),
                attachments=[],
                location=sa.null(),
                entities=sa.null(),
                choice_payload=None,
                processing_error=None,
                delivery_error=None,
            )
        )
        await conn.execute(
            sa.update(outbox)
            .where(outbox.c.conversation_id.in_(ids), outbox.c.status.not_in(UNSENT))
            .values(payload={}, last_error=None)
        )
        ticket_pks = sa.select(tickets.c.id).where(tickets.c.conversation_id.in_(ids))
        await conn.execute(
            sa.delete(ticket_attachments).where(ticket_attachments.c.ticket_pk.in_(ticket_pks))
        )
        await conn.execute(
            sa.update(tickets)
            .where(tickets.c.conversation_id.in_(ids))
            .values(
                description="",
                incident_when="",
                incident_where="",
                rating_comment=None,
                reporter_nik=None,
            )
        )
        await conn.execute(
            sa.update(bookings)
            .where(bookings.c.conversation_id.in_(ids), _has_applicant(bookings))
            .values(applicant_name=None, applicant_nik=None)
        )
        await conn.execute(
            sa.update(contacts)
            .where(_remembered_and_silent(ids))
            .values(applicant_name=None, applicant_nik=None, applicant_saved_at=None)
        )
        report.files, report.file_bytes = await asyncio.to_thread(_delete, paths)
        return report

    async def _count(self, conn: AsyncConnection, ids: Sequence[int]) -> PurgeReport:
        """What purging the conversations ``ids`` removes; files are those on disk now."""
        message_count = int(
            await conn.scalar(sa.select(sa.func.count()).where(messages.c.conversation_id.in_(ids)))
            or 0
        )
        attached = [
            a
            for (stored,) in await conn.execute(
                sa.select(messages.c.attachments).where(messages.c.conversation_id.in_(ids))
            )
            for a in _entries(stored)
        ]
        ticket_count = int(
            await conn.scalar(sa.select(sa.func.count()).where(tickets.c.conversation_id.in_(ids)))
            or 0
        )
        ticket_files = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(ticket_attachments.join(tickets))
            .where(tickets.c.conversation_id.in_(ids))
        )
        sends = await conn.scalar(
            sa.select(sa.func.count()).where(
                outbox.c.conversation_id.in_(ids), outbox.c.status.not_in(UNSENT)
            )
        )
        applicants = int(
            await conn.scalar(
                sa.select(sa.func.count()).where(
                    bookings.c.conversation_id.in_(ids), _has_applicant(bookings)
                )
            )
            or 0
        ) + int(
            await conn.scalar(sa.select(sa.func.count()).where(_remembered_and_silent(ids))) or 0
        )
        paths = await self._paths(conn, ids)
        sizes = await asyncio.to_thread(lambda: [_size(p) for p in paths])
        present = [s for s in sizes if s is not None]
        return PurgeReport(
            conversations=len(ids),
            messages=message_count,
            attachments=len(attached) + int(ticket_files or 0),
            files=len(present),
            file_bytes=sum(present),
            outbox=int(sends or 0),
            tickets=ticket_count,
            applicants=applicants,
        )

    async def _paths(self, conn: AsyncConnection, ids: Sequence[int]) -> list[Path]:
        """The hub's own files behind the attachments of ``ids``, each once."""
        urls = [
            str(a.get("url") or "")
            for (stored,) in await conn.execute(
                sa.select(messages.c.attachments).where(messages.c.conversation_id.in_(ids))
            )
            for a in _entries(stored)
        ]
        urls += [
            str(url)
            for url in await conn.scalars(
                sa.select(ticket_attachments.c.url)
                .select_from(ticket_attachments.join(tickets))
                .where(tickets.c.conversation_id.in_(ids))
            )
        ]
        found = {self.locate(url) for url in urls if url}
        return sorted(p for p in found if p is not None)


def _entries(stored: Any) -> Iterable[dict[str, Any]]:
    return [a for a in stored if isinstance(a, dict)] if isinstance(stored, list) else []


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def _delete(paths: Iterable[Path]) -> tuple[int, int]:
    """Delete the files (and their folder once empty): (files deleted, bytes)."""
    count = size = 0
    for path in paths:
        found = _size(path)
        if found is None:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue  # another process deleted it first
        count, size = count + 1, size + found
        with contextlib.suppress(OSError):  # other files still in it
            path.parent.rmdir()
    return count, size


def _has_applicant(table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.or_(table.c.applicant_name.is_not(None), table.c.applicant_nik.is_not(None))


def _remembered_and_silent(ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """Contacts of the conversations ``ids`` that keep an applicant and have no other
    conversation left unpurged (the ones in ``ids`` count as purged, even in a dry run)."""
    return sa.and_(
        _has_applicant(contacts),
        contacts.c.id.in_(sa.select(conversations.c.contact_id).where(conversations.c.id.in_(ids))),
        ~sa.exists().where(
            conversations.c.contact_id == contacts.c.id,
            conversations.c.purged_at.is_(None),
            conversations.c.id.not_in(ids),
        ),
    )


def _as_dict(report: PurgeReport) -> dict[str, int]:
    return {field.name: getattr(report, field.name) for field in fields(report)}

"""Retention (UU PDP 27/2022): ``omnihub purge`` and the daily job, on SQLite and PostgreSQL.

Conversations are written straight into the store, each with what a purge must
remove (a text with a NIK, the provider's payload, a mail attachment kept on disk,
a location, the bot's state, the outbox copy of the reply, a closed ticket's
description, NIK and attachment) and what it must keep (rows, times, channels,
delivery status, ticket status history, rating). Mail files are written by the
email channel's own ``MailFiles``, so the purge finds them the way the hub does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub import cli
from hub.app import HUB, create_app
from hub.channels.email import MailFiles
from hub.config import Settings
from hub.store import Database, migrate, stats
from hub.store.retention import PurgeReport, Retention
from hub.store.tables import (
    bookings,
    contacts,
    conversations,
    messages,
    outbox,
    ticket_attachments,
    ticket_events,
    tickets,
)
from hub.store.tickets import rating_summary
from tests.clock import Clock
from tests.seeds import messages_at
from tests.test_console_inbox import Desk, add_officer

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
RETENTION = timedelta(days=30)
PUBLIC_URL = "https://hub.example"
NIK = "5103010101900001"
PURGED_MARK = "[dihapus sesuai masa simpan]"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    await migrate.upgrade(database)
    yield database
    await database.close()


@pytest.fixture
def files(tmp_path: Path) -> MailFiles:
    return MailFiles(tmp_path / "mail", PUBLIC_URL)


@dataclass
class Seeded:
    old: int
    """Closed 100 days ago, its ticket closed 95 days ago: purged."""
    recent: int
    """Closed 5 days ago: kept."""
    still_open: int
    """With an officer, never closed, first message 100 days ago: kept."""
    idle: int
    """Left with the bot, silent for 100 days: closed and purged."""
    chatting: int
    """With the bot since 100 days ago, a message 2 days ago: kept."""
    open_ticket: int
    """Closed 100 days ago, its ticket still in progress: kept."""
    ticket_closed_lately: int
    """Closed 100 days ago, its ticket closed 3 days ago: kept for now."""
    old_files: list[Path]
    kept_files: list[Path]


async def add_conversation(
    conn: Any,
    files: MailFiles,
    tag: str,
    *,
    created: datetime,
    closed: datetime | None,
    ticket: tuple[str, datetime | None] | None = None,
    status: str = "bot",
) -> tuple[int, list[Path]]:
    """A citizen's mail conversation with a reply, optionally a ticket: (id, its files)."""
    contact = await conn.scalar(
        sa.insert(contacts)
        .values(display_name="Wayan", created_at=created, updated_at=created)
        .returning(contacts.c.id)
    )
    conversation = int(
        await conn.scalar(
            sa.insert(conversations)
            .values(
                contact_id=contact,
                status="closed" if closed else status,
                channel="email",
                address=f"{tag}@warga.example",
                locale="id",
                state={"flow": "care", "slots": {"nik": NIK}},
                subject=f"Pengaduan {tag}",
                thread=[f"<{tag}@warga.example>"],
                created_at=created,
                updated_at=closed or created,
                closed_at=closed,
            )
            .returning(conversations.c.id)
        )
    )
    mail_url = files.save(f"<{tag}@warga.example>", 0, "ktp.jpg", "image/jpeg", b"J" * 1000)
    saved = [files.local_path(mail_url)]
    inbound = await conn.scalar(
        sa.insert(messages)
        .values(
            conversation_id=conversation,
            direction="inbound",
            channel="email",
            provider_message_id=f"<{tag}@warga.example>",
            author="citizen",
            text=f"Pengaduan, NIK saya {NIK}",
            attachments=[
                {"content_type": "image/jpeg", "url": mail_url, "filename": "ktp.jpg"},
                {"content_type": "image/png", "url": "https://api.telegram.example/file/x.png"},
            ],
            location={"latitude": -8.6, "longitude": 115.2},
            intent="care_complaint",
            entities={"nik": NIK},
            raw={"from": f"{tag}@warga.example", "body": NIK},
            processing="done",
            created_at=created,
            updated_at=created,
        )
        .returning(messages.c.id)
    )
    reply_at = created + timedelta(minutes=1)
    reply = await conn.scalar(
        sa.insert(messages)
        .values(
            conversation_id=conversation,
            direction="outbound",
            channel="email",
            author="bot",
            text=f"Ringkasan: NIK {NIK}",
            attachments=[],
            intent=None,
            delivery_status="delivered",
            reply_to_id=inbound,
            created_at=reply_at,
            updated_at=reply_at,
        )
        .returning(messages.c.id)
    )
    await conn.execute(
        sa.insert(outbox).values(
            message_id=reply,
            conversation_id=conversation,
            channel="email",
            payload={"recipient": f"{tag}@warga.example", "text": f"NIK {NIK}"},
            status="sent",
            attempts=1,
            next_attempt_at=reply_at,
            created_at=reply_at,
            sent_at=reply_at,
        )
    )
    if ticket is not None:
        ticket_url = files.save(
            f"<{tag}@warga.example>", 1, "bukti.pdf", "application/pdf", b"P" * 500
        )
        saved.append(files.local_path(ticket_url))
        status, ticket_closed = ticket
        pk = await conn.scalar(
            sa.insert(tickets)
            .values(
                ticket_id=f"CARE-20260801-{conversation:04d}",
                kind="complaint",
                status=status,
                category="pelayanan",
                agency="disdukcapil",
                description=f"Petugas meminta uang. NIK {NIK}",
                incident_when="kemarin",
                incident_where="loket 3",
                contact_id=contact,
                conversation_id=conversation,
                channel="email",
                created_at=created,
                updated_at=ticket_closed or created,
                sla_breached_at=created + timedelta(days=2),
                closed_at=ticket_closed,
                rating=4 if ticket_closed else None,
                rating_comment="Cepat, terima kasih Bu Made" if ticket_closed else None,
                reporter_nik="gAAAA-ciphertext",
            )
            .returning(tickets.c.id)
        )
        await conn.execute(
            sa.insert(ticket_events).values(
                ticket_pk=pk,
                at=created,
                actor="citizen",
                kind="status",
                to_status="received",
            )
        )
        await conn.execute(
            sa.insert(ticket_events).values(
                ticket_pk=pk,
                at=created + timedelta(days=2),
                actor="system",
                kind="sla_breach",
            )
        )
        await conn.execute(
            sa.insert(ticket_attachments).values(
                ticket_pk=pk,
                content_type="application/pdf",
                url=ticket_url,
                filename="bukti.pdf",
                created_at=created,
            )
        )
    return conversation, [path for path in saved if path is not None]


async def seed(db: Database, files: MailFiles, now: datetime = NOW) -> Seeded:
    long_ago = now - timedelta(days=100)
    async with db.begin() as conn:
        old, old_files = await add_conversation(
            conn,
            files,
            "old",
            created=long_ago,
            closed=long_ago + timedelta(hours=1),
            ticket=("closed", now - timedelta(days=95)),
        )
        kept = []
        recent, paths = await add_conversation(
            conn, files, "recent", created=now - timedelta(days=6), closed=now - timedelta(days=5)
        )
        kept += paths
        still_open, paths = await add_conversation(
            conn, files, "open", created=long_ago, closed=None, status="officer"
        )
        kept += paths
        idle, idle_files = await add_conversation(
            conn, files, "idle", created=long_ago, closed=None
        )
        chatting, paths = await add_conversation(
            conn, files, "chatting", created=long_ago, closed=None
        )
        kept += paths
        await messages_at(conn, chatting, [(now - timedelta(days=2), "email")], prefix="chat")
        await conn.execute(
            sa.update(conversations)
            .where(conversations.c.id == chatting)
            .values(updated_at=now - timedelta(days=2))
        )
        open_ticket, paths = await add_conversation(
            conn,
            files,
            "evidence",
            created=long_ago,
            closed=long_ago + timedelta(hours=1),
            ticket=("in_progress", None),
        )
        kept += paths
        lately, paths = await add_conversation(
            conn,
            files,
            "lately",
            created=long_ago,
            closed=long_ago + timedelta(hours=1),
            ticket=("closed", now - timedelta(days=3)),
        )
        kept += paths
    return Seeded(
        old, recent, still_open, idle, chatting, open_ticket, lately, old_files + idle_files, kept
    )


async def figures(db: Database) -> dict[str, Any]:
    """What the dashboard and the reports count, plus the rows those counts come from."""
    since = NOW - timedelta(days=400)
    async with db.engine.connect() as conn:
        return {
            "messages_per_day": await stats.messages_per_channel_per_day(conn, since),
            "open_tickets": await stats.open_tickets_by_status_and_agency(conn),
            "breaches": await stats.sla_breaches(conn, since),
            "rating": await rating_summary(conn),
            "bookings": await stats.bookings_per_service(conn, date(2026, 1, 1), date(2027, 1, 1)),
            "messages": list(
                await conn.execute(
                    sa.select(
                        messages.c.id,
                        messages.c.conversation_id,
                        messages.c.direction,
                        messages.c.channel,
                        messages.c.intent,
                        messages.c.author,
                        messages.c.delivery_status,
                        messages.c.created_at,
                    ).order_by(messages.c.id)
                )
            ),
            "tickets": list(
                await conn.execute(
                    sa.select(
                        tickets.c.ticket_id,
                        tickets.c.status,
                        tickets.c.agency,
                        tickets.c.category,
                        tickets.c.created_at,
                        tickets.c.closed_at,
                        tickets.c.sla_breached_at,
                        tickets.c.rating,
                    ).order_by(tickets.c.id)
                )
            ),
            "ticket_events": list(
                await conn.execute(sa.select(ticket_events).order_by(ticket_events.c.id))
            ),
            "conversations": list(
                await conn.execute(
                    # Their status is not counted (an idle one is closed by the purge).
                    sa.select(
                        conversations.c.id,
                        conversations.c.contact_id,
                        conversations.c.channel,
                        conversations.c.created_at,
                    ).order_by(conversations.c.id)
                )
            ),
            "outbox": list(
                await conn.execute(
                    sa.select(outbox.c.id, outbox.c.status, outbox.c.sent_at).order_by(outbox.c.id)
                )
            ),
        }


async def content(db: Database, conversation_id: int) -> dict[str, Any]:
    """Everything personal a conversation holds."""
    async with db.engine.connect() as conn:
        conversation = (
            await conn.execute(
                sa.select(conversations).where(conversations.c.id == conversation_id)
            )
        ).one()
        rows = list(
            await conn.execute(
                sa.select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.id)
            )
        )
        payloads = list(
            await conn.scalars(
                sa.select(outbox.c.payload).where(outbox.c.conversation_id == conversation_id)
            )
        )
        ticket_rows = list(
            await conn.execute(
                sa.select(tickets).where(tickets.c.conversation_id == conversation_id)
            )
        )
        ticket_files = list(
            await conn.scalars(
                sa.select(ticket_attachments.c.url)
                .select_from(ticket_attachments.join(tickets))
                .where(tickets.c.conversation_id == conversation_id)
            )
        )
    return {
        "purged_at": conversation.purged_at,
        "status": conversation.status,
        "closed_at": conversation.closed_at,
        "state": conversation.state,
        "subject": conversation.subject,
        "thread": conversation.thread,
        "texts": [m.text for m in rows],
        "raw": [m.raw for m in rows],
        "attachments": [m.attachments for m in rows],
        "locations": [m.location for m in rows],
        "entities": [m.entities for m in rows],
        "payloads": payloads,
        "descriptions": [t.description for t in ticket_rows],
        "niks": [t.reporter_nik for t in ticket_rows],
        "comments": [t.rating_comment for t in ticket_rows],
        "ticket_files": ticket_files,
    }


def assert_untouched(found: dict[str, Any]) -> None:
    assert found["purged_at"] is None
    assert found["state"] == {"flow": "care", "slots": {"nik": NIK}}
    assert found["subject"] is not None and found["thread"]
    assert all(NIK in text for text in found["texts"][:2])
    assert found["raw"][0] is not None and len(found["attachments"][0]) == 2
    assert found["locations"][0] is not None and found["entities"][0] == {"nik": NIK}
    assert all(found["payloads"])


# --- the store ------------------------------------------------------------------------------


async def test_an_old_closed_conversation_loses_its_content_and_keeps_its_figures(
    db: Database, files: MailFiles
) -> None:
    seeded = await seed(db, files)
    before = await figures(db)
    assert all(p.is_file() for p in seeded.old_files)

    report = await Retention(db, files.local_path, clock=lambda: NOW).purge(RETENTION)

    assert report == PurgeReport(
        conversations=2,  # the closed one and the idle one
        messages=4,
        attachments=5,  # two on each citizen's mail, one on the ticket
        files=3,
        file_bytes=2500,
        outbox=2,
        tickets=1,
    )
    gone = await content(db, seeded.old)
    assert gone["purged_at"] == NOW
    assert gone["state"] == {} and gone["subject"] is None and gone["thread"] is None
    assert gone["texts"] == ["", ""]
    assert gone["raw"] == [None, None]
    assert gone["attachments"] == [[], []]
    assert gone["locations"] == [None, None] and gone["entities"] == [None, None]
    assert gone["payloads"] == [{}]
    assert gone["descriptions"] == [""] and gone["niks"] == [None] and gone["comments"] == [None]
    assert gone["ticket_files"] == []
    assert not any(p.exists() for p in seeded.old_files)
    assert not seeded.old_files[0].parent.exists()  # the file's folder went with it
    idle = await content(db, seeded.idle)
    assert idle["purged_at"] == NOW and idle["texts"] == ["", ""] and idle["state"] == {}
    # ...and closed, so the citizen's next message starts a new conversation.
    assert idle["status"] == "closed" and idle["closed_at"] == NOW
    # What the dashboard and the reports count is the same, down to each row's facts.
    assert await figures(db) == before


async def test_recent_open_and_evidence_conversations_are_untouched(
    db: Database, files: MailFiles
) -> None:
    seeded = await seed(db, files)
    report = await Retention(db, files.local_path, clock=lambda: NOW).purge(RETENTION)
    assert report.conversations == 2
    for kept in (seeded.recent, seeded.still_open, seeded.chatting, seeded.open_ticket):
        assert_untouched(await content(db, kept))
    # An open complaint keeps its description and its evidence, whatever its age.
    evidence = await content(db, seeded.open_ticket)
    assert NIK in evidence["descriptions"][0] and evidence["niks"] == ["gAAAA-ciphertext"]
    assert len(evidence["ticket_files"]) == 1
    # A ticket closed lately (the citizen may still dispute it) keeps its conversation too.
    assert_untouched(await content(db, seeded.ticket_closed_lately))
    assert all(p.is_file() for p in seeded.kept_files)


async def test_the_evidence_goes_once_its_ticket_has_been_closed_long_enough(
    db: Database, files: MailFiles
) -> None:
    seeded = await seed(db, files)
    later = Retention(db, files.local_path, clock=lambda: NOW + timedelta(days=40))
    await later.purge(RETENTION)
    assert (await content(db, seeded.ticket_closed_lately))["purged_at"] is not None
    assert (await content(db, seeded.recent))["purged_at"] is not None
    # Still in progress, however old: kept.
    assert_untouched(await content(db, seeded.open_ticket))


async def test_a_purged_conversation_is_not_purged_again(db: Database, files: MailFiles) -> None:
    seeded = await seed(db, files)
    first = Retention(db, files.local_path, clock=lambda: NOW)
    await first.purge(RETENTION)
    again = Retention(db, files.local_path, clock=lambda: NOW + timedelta(hours=1))
    assert await again.purge(RETENTION) == PurgeReport()
    assert await again.purge(RETENTION, dry_run=True) == PurgeReport()
    assert (await content(db, seeded.old))["purged_at"] == NOW


async def test_a_reply_still_to_send_or_a_booking_ahead_makes_a_conversation_wait(
    db: Database, files: MailFiles
) -> None:
    seeded = await seed(db, files)
    async with db.begin() as conn:
        await conn.execute(
            sa.update(outbox).where(outbox.c.conversation_id == seeded.old).values(status="pending")
        )
        contact = await conn.scalar(
            sa.select(conversations.c.contact_id).where(conversations.c.id == seeded.idle)
        )
        # Booked long ago for a visit still ahead: its reminders come into the conversation.
        await conn.execute(
            sa.insert(bookings).values(
                code="B-RETAIN1",
                contact_id=contact,
                conversation_id=seeded.idle,
                service_id="ktp_el_baru",
                day=(NOW + timedelta(days=2)).date(),
                session="pagi",
                queue_number=1,
                queue_label="A-001",
                counter="Loket 1",
                status="booked",
                channel="email",
                created_at=NOW - timedelta(days=100),
                updated_at=NOW - timedelta(days=100),
            )
        )
    retention = Retention(db, files.local_path, clock=lambda: NOW)
    assert (await retention.purge(RETENTION)).conversations == 0
    assert_untouched(await content(db, seeded.old))
    assert_untouched(await content(db, seeded.idle))


async def test_an_unprocessed_message_makes_a_conversation_wait(
    db: Database, files: MailFiles
) -> None:
    seeded = await seed(db, files)
    async with db.begin() as conn:
        await conn.execute(
            sa.update(messages)
            .where(messages.c.conversation_id == seeded.idle, messages.c.direction == "inbound")
            .values(processing="pending")
        )
    retention = Retention(db, files.local_path, clock=lambda: NOW)
    assert (await retention.purge(RETENTION)).conversations == 1
    assert_untouched(await content(db, seeded.idle))


async def test_dry_run_changes_nothing_and_counts_what_the_purge_then_removes(
    db: Database, files: MailFiles
) -> None:
    seeded = await seed(db, files)
    # A second old conversation, to count over several batches of one.
    async with db.begin() as conn:
        await add_conversation(
            conn,
            files,
            "old2",
            created=NOW - timedelta(days=60),
            closed=NOW - timedelta(days=59),
        )
    retention = Retention(db, files.local_path, clock=lambda: NOW, batch_size=1)
    before = await figures(db)
    old_content = await content(db, seeded.old)

    dry = await retention.purge(RETENTION, dry_run=True)

    assert dry == PurgeReport(
        conversations=3,
        messages=6,
        attachments=7,
        files=4,
        file_bytes=3500,
        outbox=3,
        tickets=1,
    )
    assert await content(db, seeded.old) == old_content
    assert await figures(db) == before
    assert all(p.is_file() for p in seeded.old_files)
    assert await retention.purge(RETENTION) == dry


async def test_two_processes_purge_each_conversation_once(
    db_url: str, db: Database, files: MailFiles
) -> None:
    async with db.begin() as conn:
        for n in range(12):
            await add_conversation(
                conn,
                files,
                f"many{n}",
                created=NOW - timedelta(days=90),
                closed=NOW - timedelta(days=89),
                ticket=("rejected", NOW - timedelta(days=88)),
            )
    others = [Database.open(db_url) for _ in range(2)]
    try:
        reports = await asyncio.gather(
            *(
                Retention(other, files.local_path, clock=lambda: NOW, batch_size=2).purge(RETENTION)
                for other in [db, *others]
            )
        )
    finally:
        for other in others:
            await other.close()
    total = PurgeReport()
    for report in reports:
        total.add(report)
    assert total == PurgeReport(
        conversations=12,
        messages=24,
        attachments=36,
        files=24,
        file_bytes=12 * 1500,
        outbox=12,
        tickets=12,
    )
    async with db.engine.connect() as conn:
        left = await conn.scalar(
            sa.select(sa.func.count()).where(conversations.c.purged_at.is_(None))
        )
    assert left == 0


async def test_a_stopping_hub_ends_the_purge_after_the_batch_in_hand(
    db: Database, files: MailFiles
) -> None:
    await seed(db, files)
    retention = Retention(db, files.local_path, clock=lambda: NOW, batch_size=1)
    asked: list[int] = []

    def stopping() -> bool:
        asked.append(1)
        return len(asked) > 1

    assert (await retention.purge(RETENTION, stopping=stopping)).conversations == 1
    # The next run goes on with what is left.
    assert (await retention.purge(RETENTION)).conversations == 1


def test_mail_urls_map_to_files_inside_the_directory_only(files: MailFiles) -> None:
    url = files.save("<a@b>", 0, "surat kuasa.pdf", "application/pdf", b"x")
    path = files.local_path(url)
    assert path is not None and path.read_bytes() == b"x"
    assert path.parent.parent == files.directory
    # The same file under another public_url (the hub moved): still ours.
    assert files.local_path(url.replace(PUBLIC_URL, "https://old.example/hub")) == path
    token = path.parent.name
    for other in (
        "https://api.telegram.example/file/bot/photo.jpg",
        f"{PUBLIC_URL}/media/mail/{token}/..%2F..%2Fconfig.yaml",
        f"{PUBLIC_URL}/media/mail/{token}/.hidden",
        f"{PUBLIC_URL}/media/mail/not-a-token/a.pdf",
        f"{PUBLIC_URL}/media/mail/{token}/",
        "",
    ):
        assert files.local_path(other) is None, other


# --- the command ----------------------------------------------------------------------------


def test_the_command_says_what_would_go_then_purges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    mail_dir = tmp_path / "mail"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage:\n  url: {db_url}\n"
        f"server:\n  public_url: {PUBLIC_URL}\n"
        f"channels:\n  email:\n    attachments_dir: {mail_dir}\n",
        encoding="utf-8",
    )
    files = MailFiles(mail_dir, PUBLIC_URL)

    async def prepare() -> Seeded:
        database = Database.open(db_url)
        try:
            await migrate.upgrade(database)
            # The command's "now" is the real one.
            return await seed(database, files, now=datetime.now(UTC))
        finally:
            await database.close()

    async def read(conversation_id: int) -> dict[str, Any]:
        database = Database.open(db_url)
        try:
            return await content(database, conversation_id)
        finally:
            await database.close()

    seeded = asyncio.run(prepare())
    args = ["--config", str(config), "purge", "--older-than", "30"]

    assert cli.main([*args, "--dry-run"]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert dry == [
        "conversations to purge: 2",
        "messages to empty: 4",
        "attachments to remove: 5",
        "files to delete: 3",
        "file bytes to free: 2500",
        "outbox payloads to empty: 2",
        "closed tickets to empty: 1",
        "applicants to remove: 0",
        "dry run: nothing was changed",
    ]
    assert asyncio.run(read(seeded.old))["purged_at"] is None
    assert all(p.is_file() for p in seeded.old_files)

    assert cli.main(args) == 0
    done = capsys.readouterr().out.splitlines()
    assert done == [
        "conversations purged: 2",
        "messages emptied: 4",
        "attachments removed: 5",
        "files deleted: 3",
        "file bytes freed: 2500",
        "outbox payloads emptied: 2",
        "closed tickets emptied: 1",
        "applicants removed: 0",
    ]
    assert asyncio.run(read(seeded.old))["texts"] == ["", ""]
    assert not any(p.exists() for p in seeded.old_files)
    assert_untouched(asyncio.run(read(seeded.open_ticket)))

    assert cli.main(args) == 0
    assert capsys.readouterr().out.splitlines()[0] == "conversations purged: 0"


@pytest.mark.parametrize("days", ["0", "-3", "abc", "1.5"])
def test_the_command_refuses_a_bad_number_of_days(
    days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["purge", "--older-than", days])
    assert exit_.value.code == 2
    assert "--older-than" in capsys.readouterr().err


# --- the daily job --------------------------------------------------------------------------


def wita(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


async def purged_at(db: Database, conversation_id: int) -> datetime | None:
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            sa.select(conversations.c.purged_at).where(conversations.c.id == conversation_id)
        )
    return value if isinstance(value, datetime) else None


async def until_purged(db: Database, conversation_id: int, timeout: float = 5.0) -> datetime:
    async with asyncio.timeout(timeout):
        while (found := await purged_at(db, conversation_id)) is None:
            await asyncio.sleep(0.05)
    return found


async def test_the_scheduler_purges_once_a_day_at_purge_at(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    db_url: str,
) -> None:
    thursday, friday = date(2026, 12, 3), date(2026, 12, 4)
    clock = Clock(wita(thursday, 1, 0))
    settings = make_settings(
        storage_url=db_url,
        scheduler={"tick_seconds": 0.05},
        privacy={"retention_days": 30, "purge_at": "02:30"},
        channels={"email": {"attachments_dir": str(tmp_path / "mail")}},
        server={"public_url": PUBLIC_URL},
    )
    client = await aiohttp_client(create_app(settings, clock=clock))
    hub = client.app[HUB]
    assert "retention_purge" in hub.scheduler.job_ids()
    files = MailFiles(tmp_path / "mail", PUBLIC_URL)
    seeded = await seed(hub.db, files, now=clock.now)

    # Started at 01:00: nothing is purged at start nor before 02:30.
    clock.now = wita(thursday, 2, 29)
    await asyncio.sleep(0.4)
    assert await purged_at(hub.db, seeded.old) is None

    clock.now = wita(thursday, 2, 30)
    assert await until_purged(hub.db, seeded.old) == wita(thursday, 2, 30)
    assert not any(p.exists() for p in seeded.old_files)
    assert await purged_at(hub.db, seeded.open_ticket) is None

    # Later the same day the job does not run again, even with something new to purge.
    async with hub.db.begin() as conn:
        late, _ = await add_conversation(
            conn,
            files,
            "late",
            created=clock.now - timedelta(days=50),
            closed=clock.now - timedelta(days=50),
        )
    clock.now = wita(thursday, 9)
    await asyncio.sleep(0.4)
    assert await purged_at(hub.db, late) is None

    # The next day at 02:30 it does.
    clock.now = wita(friday, 2, 30)
    assert await until_purged(hub.db, late) == wita(friday, 2, 30)
    assert await purged_at(hub.db, seeded.open_ticket) is None


async def test_no_purge_job_without_a_retention_period(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    assert "retention_purge" not in client.app[HUB].scheduler.job_ids()


# --- the console ----------------------------------------------------------------------------


async def test_the_console_shows_a_purged_conversation_as_removed(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    hub = client.app[HUB]
    files = MailFiles(tmp_path / "mail", PUBLIC_URL)
    seeded = await seed(hub.db, files, now=datetime.now(UTC))
    await Retention(hub.db, files.local_path).purge(RETENTION)
    await add_officer(client.app, "made")
    desk = Desk(client)
    await desk.login("made")
    page = await desk.page(seeded.old)
    assert page.count(PURGED_MARK) == 2
    assert NIK not in page
    kept = await desk.page(seeded.recent)
    assert PURGED_MARK not in kept and f"NIK saya {NIK}" in kept

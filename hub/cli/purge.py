"""``omnihub purge --older-than DAYS [--dry-run]``: the retention purge, by hand.

The same purge the scheduler runs daily when ``privacy.retention_days`` is set
(``hub.store.retention``): texts, payloads and attachments of conversations closed
(or silent with the bot) longer ago than DAYS go, the rows the figures count stay.
Safe to run while the hub serves, and again: a purged conversation is never purged
twice.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from hub.app import prepare_database, retention_for
from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.store import Database
from hub.store.retention import PurgeReport


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {value!r}") from None
    if days < 1:
        raise argparse.ArgumentTypeError("must be at least 1 day")
    return days


def add_commands(sub: Subparsers) -> None:
    purge = sub.add_parser(
        "purge",
        help="remove texts, payloads and attachments of conversations closed long ago",
        description=(
            "Remove message texts, provider payloads, attachments (and their files), the "
            "dialog state and subject of conversations closed (or left silent with the bot) "
            "more than DAYS days ago; the rows the dashboard and reports count are kept. A "
            "conversation whose ticket is still open is never touched."
        ),
    )
    purge.add_argument(
        "--older-than",
        dest="older_than",
        type=_days,
        required=True,
        metavar="DAYS",
        help="purge conversations closed more than DAYS days ago",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="only say what would go; change nothing"
    )
    purge.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    report = asyncio.run(_purge(settings, args.older_than, dry_run=args.dry_run))
    for line in report_lines(report, dry_run=args.dry_run):
        print(line)
    return 0


async def _purge(settings: Settings, days: int, *, dry_run: bool) -> PurgeReport:
    db = Database.open(settings.storage.url)
    try:
        await prepare_database(db)
        retention = retention_for(db, settings)
        return await retention.purge(timedelta(days=days), dry_run=dry_run)
    finally:
        await db.close()


def report_lines(report: PurgeReport, *, dry_run: bool) -> list[str]:
    """One line per kind, a number last so a script can read it."""
    verb = "to purge" if dry_run else "purged"
    lines = [
        f"conversations {verb}: {report.conversations}",
        f"messages {'to empty' if dry_run else 'emptied'}: {report.messages}",
        f"attachments {'to remove' if dry_run else 'removed'}: {report.attachments}",
        f"files {'to delete' if dry_run else 'deleted'}: {report.files}",
        f"file bytes {'to free' if dry_run else 'freed'}: {report.file_bytes}",
        f"outbox payloads {'to empty' if dry_run else 'emptied'}: {report.outbox}",
        f"closed tickets {'to empty' if dry_run else 'emptied'}: {report.tickets}",
        f"applicants {'to remove' if dry_run else 'removed'}: {report.applicants}",
    ]
    if dry_run:
        lines.append("dry run: nothing was changed")
    return lines

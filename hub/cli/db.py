"""``omnihub db upgrade|current``: the database schema, migrated or reported."""

from __future__ import annotations

import argparse
import asyncio

from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.store import Database, migrate


def add_commands(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the database to this version's schema")
    db_sub.add_parser("current", help="print the schema revision of the database")
    db.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_db(settings, args.db_command))
    return 0


async def _db(settings: Settings, command: str) -> None:
    db = Database.open(settings.storage.url)
    try:
        if command == "upgrade":
            await migrate.upgrade(db)
        print(await migrate.current_revision(db) or "(empty)")
    finally:
        await db.close()

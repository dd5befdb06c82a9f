"""``omnihub token create|list|revoke``: bearer tokens for the REST API.

A token is printed once, as the last line of ``create``, so a script can take it
with ``tail -n 1``; only its hash is stored, so a lost token is revoked and replaced.
Every token is made with the scopes it needs (``--scope``, repeated), never "all".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from hub.api.scopes import LEGACY_SCOPES, ScopeError, parse_scopes, valid_scopes_text
from hub.api.tokens import TokenError, TokenStore
from hub.app import prepare_database
from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.model import utcnow
from hub.store import Database
from hub.store.api_tokens import ApiTokenRecord


def add_commands(sub: Subparsers) -> None:
    token = sub.add_parser("token", help="REST API tokens: create, list, revoke")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser(
        "create",
        help="make a token and print it once",
        epilog="scopes:\n" + valid_scopes_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    create.add_argument("name", help="who uses it, e.g. queue-display or kiosk-lobby")
    create.add_argument(
        "--scope",
        action="append",
        metavar="SCOPE",
        help="what it may do, e.g. bookings:read; repeat for several (listed below)",
    )
    token_sub.add_parser(
        "list", help="names, created, last used, revoked, scopes (never the tokens)"
    )
    revoke = token_sub.add_parser("revoke", help="stop a token from working, at once")
    revoke.add_argument("name")
    token.set_defaults(handler=Handler(run))


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    db = Database.open(settings.storage.url)
    try:
        await prepare_database(db)
        tokens = TokenStore(db, utcnow)
        try:
            if args.token_command == "create":
                new = await tokens.create(args.name, parse_scopes(args.scope))
                print(f"token {new.record.name!r} created with {_scopes(new.record.scopes)}.")
                print("It will not be shown again:")
                print(new.token)
            elif args.token_command == "revoke":
                await tokens.revoke(args.name)
                print(f"token {args.name!r} revoked")
            else:
                _print_list(await tokens.list_all())
        except (TokenError, ScopeError) as exc:
            print(f"omnihub: {exc}", file=sys.stderr)
            return 2
    finally:
        await db.close()
    return 0


def _scopes(stored: tuple[str, ...] | None) -> str:
    """The stored scopes; a token older than scopes says it has the default and which."""
    if stored is None:
        return "default:" + ",".join(sorted(LEGACY_SCOPES))
    return ",".join(stored)


def _print_list(records: list[ApiTokenRecord]) -> None:
    if not records:
        print("no API tokens yet: omnihub token create NAME --scope SCOPE")
        return
    rows = [("NAME", "CREATED", "LAST USED", "REVOKED", "SCOPES")]
    rows += [
        (
            r.name,
            _when(r.created_at),
            _when(r.last_used_at),
            _when(r.revoked_at),
            _scopes(r.scopes),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, row[4]]))
    if any(r.scopes is None for r in records):
        print(
            "default: a token made before scopes existed may do all but "
            "tickets:read-confidential; replace it with one made with --scope"
        )

"""``omnihub officer add|list|passwd|unlock|deactivate``: the console's accounts.

A password is never an argument (it would sit in the shell history and in ``ps``):
it is prompted for twice on a terminal, or read as the first line of stdin when
stdin is a pipe, so a provisioning script can do
``printf '%s\\n' "$PW" | omnihub officer add made --role officer``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import datetime
from typing import TextIO

from hub.app import prepare_database
from hub.cli.command import Handler, Subparsers
from hub.config import Settings
from hub.console.accounts import AccountError, OfficerAccounts
from hub.console.officer_login import Role
from hub.console.passwords import PasswordError, Passwords, check_new_password
from hub.model import utcnow
from hub.pipeline.understanding import catalogue_for
from hub.store import Database
from hub.store.officers import OfficerRecord


def add_commands(sub: Subparsers) -> None:
    officer = sub.add_parser(
        "officer", help="officers' console accounts: add, list, passwd, unlock"
    )
    officer_sub = officer.add_subparsers(dest="officer_command", required=True)
    add = officer_sub.add_parser(
        "add", help="create an account; the password is prompted for (or read from stdin)"
    )
    add.add_argument("username", help="1-64 lower-case letters, digits, '.', '_' or '-'")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--name", default="", help='the name officers see, e.g. "Made Sudarsana"')
    add.add_argument(
        "--agency",
        action="append",
        default=[],
        metavar="ID",
        help="an agency id of services.yaml whose tickets the officer sees (repeatable)",
    )
    officer_sub.add_parser("list", help="accounts, roles, agencies, locks, last login")
    passwd = officer_sub.add_parser("passwd", help="set a new password; ends the open sessions")
    passwd.add_argument("username")
    unlock = officer_sub.add_parser(
        "unlock", help="clear an account lock left by an older version (nothing locks now)"
    )
    unlock.add_argument("username")
    deactivate = officer_sub.add_parser(
        "deactivate", help="stop an account at once (its audit trail stays)"
    )
    deactivate.add_argument("username")
    officer.set_defaults(handler=Handler(run))


def read_password(stdin: TextIO) -> str:
    """The new password: the first line of a piped stdin, else typed twice, unechoed."""
    if not stdin.isatty():
        password = stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise PasswordError("the two passwords differ")
    check_new_password(password)
    return password


def run(args: argparse.Namespace, settings: Settings) -> int:
    password = ""
    if args.officer_command in ("add", "passwd"):
        try:
            password = read_password(sys.stdin)
        except PasswordError as exc:
            print(f"omnihub: {exc}", file=sys.stderr)
            return 2
    return asyncio.run(_run(args, settings, password))


async def _run(args: argparse.Namespace, settings: Settings, password: str) -> int:
    db = Database.open(settings.storage.url)
    try:
        await prepare_database(db)
        accounts = OfficerAccounts(db, Passwords(), utcnow)
        try:
            command = args.officer_command
            if command == "add":
                known = catalogue_for(settings).agencies
                record = await accounts.add(
                    args.username,
                    role=args.role,
                    password=password,
                    display_name=args.name,
                    agencies=args.agency,
                    known_agencies=set(known),
                )
                print(f"officer {record.username!r} created ({_describe(record)})")
            elif command == "passwd":
                record = await accounts.set_password(args.username, password)
                print(f"password of {record.username!r} changed; their sessions were ended")
            elif command == "unlock":
                record = await accounts.unlock(args.username)
                print(f"officer {record.username!r} unlocked")
            elif command == "deactivate":
                record = await accounts.deactivate(args.username)
                print(f"officer {record.username!r} deactivated; their sessions were ended")
            else:
                _print_list(await accounts.list_all(), utcnow())
        except AccountError as exc:
            print(f"omnihub: {exc}", file=sys.stderr)
            return 2
    finally:
        await db.close()
    return 0


def _describe(record: OfficerRecord) -> str:
    agencies = ", ".join(record.agencies) or "all agencies"
    return f"role {record.role}; {agencies}"


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _print_list(records: list[OfficerRecord], now: datetime) -> None:
    if not records:
        print("no officers yet: omnihub officer add USERNAME --role officer")
        return
    rows = [("USERNAME", "ROLE", "ACTIVE", "LOCKED UNTIL", "LAST LOGIN", "AGENCIES", "NAME")]
    for r in records:
        locked = _when(r.locked_until) if r.locked_at(now) else "-"
        rows.append(
            (
                r.username,
                r.role,
                "yes" if r.active else "no",
                locked,
                _when(r.last_login_at),
                ",".join(r.agencies) or "*",
                r.display_name or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]))

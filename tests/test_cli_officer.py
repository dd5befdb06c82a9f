"""``omnihub officer``: accounts made from the command line, on SQLite and PostgreSQL.

One test runs the installed entry point as a real process with the password piped
on stdin, exactly as an operator's script would; the others call the command's code
in this process (the entry point takes seconds to import) with the same argument
parser and a replaced stdin.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.cli import officer as cli_officer
from hub.cli.dispatch import build_parser
from hub.config import Settings
from hub.console.passwords import PasswordError, Passwords
from hub.store import Database
from hub.store.tables import audit_events, console_sessions, officer_agencies, officers

ENTRY_POINT = Path(sys.executable).parent / "omnihub"
PASSWORD = "sandi-panjang-sekali"

Officer = Callable[..., tuple[int, str, str]]


async def _rows_async(db_url: str, table: sa.Table) -> list[Any]:
    db = Database.open(db_url)
    try:
        async with db.engine.connect() as conn:
            return list(await conn.execute(sa.select(table)))
    finally:
        await db.close()


def rows(db_url: str, table: sa.Table) -> list[Any]:
    return asyncio.run(_rows_async(db_url, table))


@pytest.fixture
def officer(
    make_settings: Callable[..., Settings],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Officer:
    """``omnihub officer ARGS`` in this process: (exit code, stdout, stderr)."""
    settings = make_settings(db_url)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            args = build_parser().parse_args(["officer", *argv])
            code = cli_officer.run(args, settings)
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_add_through_the_real_command_with_the_password_piped(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    (tmp_path / "config.yaml").write_text(f"storage:\n  url: {db_url}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    result = subprocess.run(
        [str(ENTRY_POINT), "officer", "add", "made", "--role", "officer"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "officer 'made' created (role officer; all agencies)"
    assert PASSWORD not in result.stdout + result.stderr
    (row,) = rows(db_url, officers)
    assert Passwords().verify(row.password_hash, PASSWORD)


def test_add_reads_the_password_from_stdin_and_stores_only_its_hash(
    officer: Officer, db_url: str
) -> None:
    code, out, err = officer(
        "add",
        "Made",
        "--role",
        "supervisor",
        "--name",
        "Made Sudarsana",
        "--agency",
        "imigrasi",
        "--agency",
        "disdukcapil",
        stdin=PASSWORD + "\nnot read\n",
    )
    assert code == 0, err
    assert "officer 'made' created" in out and PASSWORD not in out + err
    (row,) = rows(db_url, officers)
    assert (row.username, row.display_name, row.role) == ("made", "Made Sudarsana", "supervisor")
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert Passwords().verify(row.password_hash, PASSWORD)
    agencies = sorted(r.agency for r in rows(db_url, officer_agencies))
    assert agencies == ["disdukcapil", "imigrasi"]
    (event,) = rows(db_url, audit_events)
    assert (event.action, event.target_id) == ("officer_created", str(row.id))
    assert PASSWORD not in str(event.detail)

    code, out, err = officer("list")
    assert code == 0, err
    header, line = out.strip().splitlines()
    assert header.split()[:3] == ["USERNAME", "ROLE", "ACTIVE"]
    assert line.split()[:3] == ["made", "supervisor", "yes"]
    assert "disdukcapil,imigrasi" in line and line.endswith("Made Sudarsana")
    assert "argon2" not in out and PASSWORD not in out

    code, _out, err = officer("add", "made", "--role", "admin", stdin=PASSWORD)
    assert code == 2 and "exists already" in err


def test_add_refuses_a_short_password_and_an_unknown_agency(officer: Officer, db_url: str) -> None:
    code, out, err = officer("add", "made", "--role", "officer", stdin="pendek\n")
    assert code == 2 and "at least 10 characters" in err and "pendek" not in out + err
    assert officer("add", "made", "--role", "officer", stdin="")[0] == 2
    code, _out, err = officer(
        "add", "made", "--role", "officer", "--agency", "dinas-rahasia", stdin=PASSWORD
    )
    assert code == 2 and "unknown agency dinas-rahasia" in err
    assert "disdukcapil" in err, "the error lists the catalogue's agencies"
    code, _out, err = officer("add", "made", "--role", "boss", stdin=PASSWORD)
    assert code == 2 and "invalid choice" in err
    code, _out, err = officer("add", "made dewa", "--role", "officer", stdin=PASSWORD)
    assert code == 2 and "username" in err
    assert rows(db_url, officers) == []


def test_the_password_is_never_an_argument(officer: Officer) -> None:
    code, _out, err = officer("add", "made", "--role", "officer", "--password", PASSWORD)
    assert code == 2 and "unrecognized arguments" in err


async def _lock_and_open_a_session(db_url: str, officer_id: int) -> None:
    now = datetime.now(UTC)
    db = Database.open(db_url)
    try:
        async with db.begin() as conn:
            await conn.execute(
                sa.update(officers).values(failed_logins=5, locked_until=now + timedelta(hours=1))
            )
            await conn.execute(
                sa.insert(console_sessions).values(
                    token_hash="a" * 64,
                    officer_id=officer_id,
                    csrf_token="c" * 43,
                    created_at=now,
                    expires_at=now + timedelta(hours=1),
                )
            )
    finally:
        await db.close()


def test_passwd_unlock_and_deactivate(officer: Officer, db_url: str) -> None:
    assert officer("add", "made", "--role", "officer", stdin=PASSWORD)[0] == 0
    (row,) = rows(db_url, officers)
    asyncio.run(_lock_and_open_a_session(db_url, row.id))
    assert "UTC" in officer("list")[1].splitlines()[1], "the lock shows"

    code, _out, err = officer("passwd", "made", stdin="sandi-baru-yang-panjang\n")
    assert code == 0, err
    (row,) = rows(db_url, officers)
    passwords = Passwords()
    assert passwords.verify(row.password_hash, "sandi-baru-yang-panjang")
    assert not passwords.verify(row.password_hash, PASSWORD)
    assert rows(db_url, console_sessions) == [], "a new password ends the sessions"
    assert officer("passwd", "made", stdin="kurang\n")[0] == 2

    code, _out, err = officer("unlock", "made")
    assert code == 0, err
    (row,) = rows(db_url, officers)
    assert (row.failed_logins, row.locked_until) == (0, None)
    assert officer("unlock", "nobody")[0] == 2
    assert officer("passwd", "nobody", stdin=PASSWORD)[0] == 2

    assert officer("deactivate", "made")[0] == 0
    assert officer("deactivate", "made")[0] == 2
    assert "made" in officer("list")[1] and " no " in officer("list")[1]
    actions = [e.action for e in rows(db_url, audit_events)]
    assert actions == [
        "officer_created",
        "password_changed",
        "officer_unlocked",
        "officer_deactivated",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_password_is_asked_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD, PASSWORD, PASSWORD + "x"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert cli_officer.read_password(_Terminal()) == PASSWORD
    with pytest.raises(PasswordError, match="differ"):
        cli_officer.read_password(_Terminal())
    assert prompts == ["New password: ", "Repeat it: "] * 2
    assert cli_officer.read_password(io.StringIO(PASSWORD + "\r\nsecond line\n")) == PASSWORD

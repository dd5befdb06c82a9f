"""``omnihub chat`` through the real command: same pipeline, same store, no number leaks."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY_POINT = Path(sys.executable).parent / "omnihub"
PHONE = "081234567890"
E164 = "+6281234567890"
LEAKS = ("081234567890", "6281234567890", "1234567890")


@pytest.fixture
def workdir(tmp_path: Path, trained_nlu_model: str) -> Path:
    db = tmp_path / "chat.db"
    (tmp_path / "config.yaml").write_text(
        f"storage:\n  url: sqlite+aiosqlite:///{db}\nnlu:\n  model_path: {trained_nlu_model}\n",
        encoding="utf-8",
    )
    return tmp_path


def chat(workdir: Path, lines: str, address: str = PHONE) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    return subprocess.run(
        [str(ENTRY_POINT), "chat", "--as", address],
        input=lines,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=60,
        check=False,
    )


def bot_messages(stdout: str) -> list[str]:
    """Each ``bot> `` line starts a message; indented lines continue it."""
    messages: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("bot> "):
            messages.append(line[len("bot> ") :])
        else:
            assert messages, f"output before the first bot line: {line!r}"
            assert line.startswith("     ") or not line.strip(), line
            messages[-1] += "\n" + line.strip()
    return messages


def query(workdir: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(workdir / "chat.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_chat_session(workdir: Path) -> None:
    result = chat(workdir, "halo\nmenu\n2\nhello\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout

    assert "Halo, selamat datang" in out
    assert "Balas dengan angka" in out
    assert "1. Info layanan" in out
    assert "Reply with a number" in out

    messages = bot_messages(out)
    # halo -> greet + menu; menu -> menu; 2 -> which service to book; hello (mid-booking)
    # -> greeted, and the booking's question again (the flow is kept, issue #13).
    assert len(messages) == 5, messages
    assert messages[0].startswith("Halo, selamat datang")
    assert messages[1].startswith("Saya bisa membantu:")
    assert messages[1].endswith("4. Bicara dengan petugas\n5. Langganan info")
    assert messages[2] == messages[1]
    assert messages[3].startswith("Ambil antrean untuk layanan apa?")
    assert "Balas dengan angka" in messages[3]
    assert messages[4].startswith(
        "Hello again! Back to your booking:\nWhich service would you like a queue number for?"
    )
    assert "Reply with a number:\n1. " in messages[4]
    assert "Balas dengan angka" not in messages[4]

    for leak in LEAKS:
        assert leak not in out
        assert leak not in result.stderr

    assert query(workdir, "SELECT channel, address FROM identities") == [("cli", E164)]
    assert query(workdir, "SELECT count(*) FROM contacts") == [(1,)]
    assert query(workdir, "SELECT channel, address, locale FROM conversations") == [
        ("cli", E164, "en")
    ]
    inbound = query(
        workdir,
        "SELECT text, intent, processing FROM messages WHERE direction = 'inbound' ORDER BY id",
    )
    assert inbound == [
        ("halo", "greet", "handled"),
        ("menu", "help", "handled"),
        ("2", "book_queue", "handled"),
        ("hello", "greet", "handled"),
    ]
    assert query(workdir, "SELECT count(*) FROM messages WHERE direction = 'outbound'") == [(5,)]
    assert query(workdir, "SELECT DISTINCT status FROM outbox") == [("sent",)]


def test_second_run_continues_the_conversation(workdir: Path) -> None:
    first = chat(workdir, "halo\n")
    assert first.returncode == 0, first.stderr
    assert bot_messages(first.stdout)[0].startswith("Halo, selamat datang")

    # The same number written another way is the same citizen.
    second = chat(workdir, "halo\n", address="+62 812-3456-7890")
    assert second.returncode == 0, second.stderr
    messages = bot_messages(second.stdout)
    assert messages[0] == "Halo lagi! Ada yang bisa dibantu?"
    assert "Halo, selamat datang" not in second.stdout
    for leak in LEAKS:
        assert leak not in second.stdout + second.stderr

    assert query(workdir, "SELECT count(*) FROM conversations") == [(1,)]
    assert query(workdir, "SELECT count(*) FROM contacts") == [(1,)]
    assert query(workdir, "SELECT channel, address FROM identities") == [("cli", E164)]
    assert query(workdir, "SELECT count(*) FROM messages WHERE direction = 'inbound'") == [(2,)]


def test_numbered_answer_only_counts_after_a_menu(workdir: Path) -> None:
    result = chat(workdir, "2\n")
    assert result.returncode == 0, result.stderr
    messages = bot_messages(result.stdout)
    assert messages[0].startswith("Maaf, saya belum memahami")
    assert "Pengambilan antrean" not in result.stdout


def test_a_name_is_kept_as_the_address(workdir: Path) -> None:
    result = chat(workdir, "hi\n", address="local-user")
    assert result.returncode == 0, result.stderr
    assert query(workdir, "SELECT channel, address FROM identities") == [("cli", "local-user")]


def test_empty_input_exits_cleanly(workdir: Path) -> None:
    result = chat(workdir, "\n\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert query(workdir, "SELECT count(*) FROM messages") == [(0,)]

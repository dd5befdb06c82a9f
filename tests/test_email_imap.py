"""The IMAP poller against a real Dovecot (tests/mailservers.py), plain and over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest

from hub.channels.email.imap import (
    ImapError,
    ImapPoller,
    _Session,
    parse_fetch_body,
    parse_search,
)
from hub.channels.email.listen import MailDeferred
from tests.mailservers import Dovecot


def mail(n: int, body: str = "Mohon info jadwal layanan KTP.") -> bytes:
    return (
        f"From: Warga {n} <warga{n}@contoh.id>\r\n"
        "To: layanan@mpp.example\r\n"
        f"Subject: Pertanyaan {n}\r\n"
        f"Message-ID: <m{n}@contoh.id>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{body} ({n}) — terima kasih\r\n"
    ).encode()


@dataclass
class Recorder:
    """on_mail for the tests: records mail, or raises for the n-th call as told."""

    mails: list[bytes] = field(default_factory=list)
    fail_on_call: dict[int, BaseException] = field(default_factory=dict)
    calls: int = 0

    async def __call__(self, raw: bytes, sender: str | None) -> None:
        assert sender is None
        self.calls += 1
        if self.calls in self.fail_on_call:
            raise self.fail_on_call.pop(self.calls)
        self.mails.append(raw)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@contextlib.asynccontextmanager
async def polling(poller: ImapPoller) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(poller.run())
    try:
        yield task
    finally:
        await asyncio.wait_for(poller.stop(), 5)
        await asyncio.wait_for(task, 5)


async def until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_takes_unseen_mail_oldest_first_and_flags_it_seen(
    dovecot: Dovecot, recorder: Recorder, no_leaked_tasks: None
) -> None:
    uids = [dovecot.append(mail(n)) for n in (1, 2, 3)]
    poller = ImapPoller(dovecot.imap_config(), recorder)
    try:
        assert await poller.poll_once() == 3
        assert recorder.mails == [mail(1), mail(2), mail(3)]
        assert all("\\Seen" in dovecot.flags()[uid] for uid in uids)
        assert await poller.poll_once() == 0
        assert len(recorder.mails) == 3
        dovecot.append(mail(4))  # arrives while the connection is kept open
        assert await poller.poll_once() == 1
        assert recorder.mails[3:] == [mail(4)]
    finally:
        await poller.stop()
        await poller.stop()


async def test_seen_and_deleted_mail_is_left_alone(dovecot: Dovecot, recorder: Recorder) -> None:
    dovecot.append(mail(1), flags="\\Seen")
    dovecot.append(mail(2), flags="\\Deleted")
    dovecot.append(mail(3))
    poller = ImapPoller(dovecot.imap_config(), recorder)
    try:
        assert await poller.poll_once() == 1
        assert recorder.mails == [mail(3)]
    finally:
        await poller.stop()


@pytest.mark.parametrize("failure", [MailDeferred("shutting down"), RuntimeError("db gone")])
async def test_failed_store_leaves_mail_unseen_for_the_next_poll(
    dovecot: Dovecot, recorder: Recorder, failure: Exception
) -> None:
    uids = [dovecot.append(mail(n)) for n in (1, 2, 3)]
    recorder.fail_on_call[2] = failure
    poller = ImapPoller(dovecot.imap_config(), recorder)
    try:
        assert await poller.poll_once() == 1
        flags = dovecot.flags()
        assert "\\Seen" in flags[uids[0]]
        assert "\\Seen" not in flags[uids[1]] and "\\Seen" not in flags[uids[2]]

        assert await poller.poll_once() == 2
        assert recorder.mails == [mail(1), mail(2), mail(3)]
        assert all("\\Seen" in f for f in dovecot.flags().values())
    finally:
        await poller.stop()


@pytest.mark.parametrize(
    "hidden", [(), ("MOVE",), ("MOVE", "UIDPLUS")], ids=["move", "copy-uidplus", "copy-expunge"]
)
async def test_move_to_moves_processed_mail(
    dovecot: Dovecot, recorder: Recorder, monkeypatch: pytest.MonkeyPatch, hidden: tuple[str, ...]
) -> None:
    """Dovecot has MOVE and UIDPLUS; hiding them exercises the fallbacks for older servers."""
    has_capability = _Session.has_capability
    monkeypatch.setattr(
        _Session,
        "has_capability",
        lambda self, name: name not in hidden and has_capability(self, name),
    )
    dovecot.append(mail(1))
    dovecot.append(mail(2))
    poller = ImapPoller(dovecot.imap_config(move_to="Diproses"), recorder)
    try:
        assert await poller.poll_once() == 2
        assert dovecot.count("INBOX") == 0
        assert dovecot.count("Diproses") == 2
        assert all("\\Seen" in f for f in dovecot.flags("Diproses").values())
        dovecot.append(mail(3))
        assert await poller.poll_once() == 1  # the folder exists now: no error from CREATE
        assert dovecot.count("Diproses") == 3
    finally:
        await poller.stop()


async def test_with_move_to_mail_opened_by_a_person_is_still_taken(
    dovecot: Dovecot, recorder: Recorder
) -> None:
    """With a folder to move to, everything left in INBOX is waiting: a mail a person
    opened first, or one flagged when the move was cut short, is not stranded."""
    dovecot.append(mail(1), flags="\\Seen")
    dovecot.append(mail(2))
    poller = ImapPoller(dovecot.imap_config(move_to="Diproses"), recorder)
    try:
        assert await poller.poll_once() == 2
        assert recorder.mails == [mail(1), mail(2)]
        assert dovecot.count("INBOX") == 0 and dovecot.count("Diproses") == 2
        assert await poller.poll_once() == 0
    finally:
        await poller.stop()


async def test_a_new_poller_neither_loses_nor_repeats(dovecot: Dovecot) -> None:
    first = Recorder(fail_on_call={3: RuntimeError("killed mid-store")})
    for n in (1, 2, 3, 4):
        dovecot.append(mail(n))
    poller = ImapPoller(dovecot.imap_config(), first)
    assert await poller.poll_once() == 2
    await poller.stop()

    dovecot.append(mail(5))
    second = Recorder()
    poller = ImapPoller(dovecot.imap_config(), second)
    try:
        assert await poller.poll_once() == 3
    finally:
        await poller.stop()
    assert first.mails + second.mails == [mail(n) for n in (1, 2, 3, 4, 5)]


async def test_run_survives_a_server_restart(
    dovecot: Dovecot, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    poller = ImapPoller(dovecot.imap_config(), recorder)
    async with polling(poller) as task:
        dovecot.append(mail(1))
        await until(lambda: len(recorder.mails) == 1)

        await asyncio.to_thread(dovecot.stop)
        await until(lambda: any("IMAP poll failed" in r.getMessage() for r in caplog.records))
        await asyncio.to_thread(dovecot.start)

        dovecot.append(mail(2))
        await until(lambda: len(recorder.mails) == 2)
        assert not task.done()
    assert recorder.mails == [mail(1), mail(2)]
    for secret in (dovecot.password, "warga", "contoh.id"):
        assert secret not in caplog.text


async def test_stop_is_quick_and_ends_run(dovecot: Dovecot, recorder: Recorder) -> None:
    poller = ImapPoller(dovecot.imap_config(poll_seconds=30), recorder)
    task = asyncio.create_task(poller.run())
    await until(lambda: poller._session is not None)
    started = time.monotonic()
    await poller.stop()
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 2
    await poller.stop()


async def test_wrong_password_is_an_imap_error(dovecot: Dovecot, recorder: Recorder) -> None:
    poller = ImapPoller(dovecot.imap_config(password="wrong"), recorder)
    with pytest.raises(ImapError, match="LOGIN refused"):
        await poller.poll_once()
    await poller.stop()


async def test_tls_with_the_test_ca(recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    async with Dovecot(tls=True) as server:
        server.append(mail(1))
        poller = ImapPoller(server.imap_config(), recorder, ssl_context=server.ssl_context)
        try:
            assert await poller.poll_once() == 1
        finally:
            await poller.stop()
        assert recorder.mails == [mail(1)]

        # The system's default trust store does not know the test CA: refused, logged, alive.
        caplog.set_level(logging.WARNING)
        untrusting = ImapPoller(server.imap_config(), recorder)
        with pytest.raises(ImapError) as refused:
            await untrusting.poll_once()
        assert isinstance(refused.value.__cause__, ssl.SSLCertVerificationError)
        async with polling(untrusting) as task:
            await until(lambda: "certificate" in caplog.text)
            assert not task.done()
        assert server.password not in caplog.text


def test_parse_fetch_body_with_uid_after_the_literal() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (FLAGS (\\Recent) BODY[] {5}",
        bytearray(b"hello"),
        b" UID 7)",
        b"Fetch completed.",
    ]
    assert parse_fetch_body(lines, 7) == b"hello"
    assert parse_fetch_body(lines, 8) is None
    assert parse_fetch_body([b"Fetch completed."], 7) is None


def test_parse_search() -> None:
    assert parse_search([b"3 1 2", b"Search completed (0.001 + 0.000 secs)."]) == [1, 2, 3]
    assert parse_search([b"", b"Search completed."]) == []


async def test_a_round_waits_its_turn_under_the_shared_lock(
    dovecot: Dovecot, recorder: Recorder
) -> None:
    """With several hub processes one polls at a time: a round whose lock another
    process holds takes nothing and leaves the mail for the holder."""
    held = True
    entered: list[str] = []

    @contextlib.asynccontextmanager
    async def round_lock() -> AsyncIterator[None]:
        if held:
            raise RuntimeError("held by another process")
        entered.append("in")
        yield
        entered.append("out")

    dovecot.append(mail(1))
    poller = ImapPoller(dovecot.imap_config(), recorder, round_lock=round_lock)
    try:
        assert await poller._locked_round() == 0
        assert recorder.mails == [] and entered == []
        held = False
        assert await poller._locked_round() == 1
        assert recorder.mails == [mail(1)] and entered == ["in", "out"]
    finally:
        await poller.stop()

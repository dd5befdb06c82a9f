"""``omnihub email check`` against a real relay (aiosmtpd) and a real mailbox (Dovecot)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.cli import main
from tests.fakes.smtp_relay import SmtpRelay
from tests.mailservers import Dovecot
from tests.test_email_channel import HUB_ADDRESS


@pytest.fixture
def mailbox() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def write_config(tmp_path: Path, email: dict[str, Any]) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"channels": {"email": email}}))
    return str(path)


def email_config(relay: SmtpRelay, mailbox: Dovecot, **imap: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "address": HUB_ADDRESS,
        "smtp": {"host": "127.0.0.1", "port": relay.port, "starttls": False},
        "imap": mailbox.imap_config(**imap).model_dump(),
    }


async def check(config: str, *extra: str) -> int:
    """The command in a worker thread: it runs its own event loop; the relay is in ours."""
    return await asyncio.to_thread(main, ["--config", config, "email", "check", *extra])


async def test_good_settings_pass_and_a_test_mail_goes_out(
    relay: SmtpRelay,
    mailbox: Dovecot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mailbox.append(
        b"From: a@example.com\r\nSubject: x\r\nMessage-ID: <x@example.com>\r\n\r\nhi\r\n"
    )
    config = write_config(tmp_path, email_config(relay, mailbox))
    assert await check(config, "--send-to", "it@example.go.id") == 0
    out = capsys.readouterr().out
    assert f"smtp: ok, 127.0.0.1:{relay.port}, plain, no login" in out
    assert "imap: ok, INBOX has 1 waiting mail(s)" in out
    assert "listen: not enabled" in out
    assert "send: ok, accepted by the relay as <omnihub.check-" in out
    [mail] = relay.received
    assert mail.rcpt_tos == ["it@example.go.id"]
    assert "omnihub email check" in mail.mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mailbox.flags() and all("\\Seen" not in f for f in mailbox.flags().values()), (
        "checking takes no mail"
    )


async def test_each_problem_is_named_and_the_exit_code_says_so(
    relay: SmtpRelay,
    mailbox: Dovecot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = email_config(relay, mailbox, password="wrong")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings["listen"] = {"enabled": True, "port": port}
        await relay.stop()  # the relay is down
        config = write_config(tmp_path, settings)
        assert await check(config) == 1
    out = capsys.readouterr().out
    assert "smtp: FAILED: SMTPConnectError" in out
    assert "imap: FAILED: ImapError: LOGIN refused (NO)" in out
    assert "listen: FAILED: Address already in use" in out
    assert "wrong" not in out, "no password in the output"

"""The SMTP listener, driven by the standard library's smtplib over a real socket.

smtplib blocks, so it runs in a thread while the listener serves on the test's loop.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from hub.channels.email.listen import MAX_RECIPIENTS, MailDeferred, MailListener
from hub.config import EmailListenConfig

OWN = "layanan@mpp.example"
CITIZEN = "warga@contoh.id"

RAW = (
    "From: Warga <warga@contoh.id>\r\n"
    "To: layanan@mpp.example\r\n"
    "Subject: Perpanjangan SIM\r\n"
    "Message-ID: <m1@contoh.id>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Selamat pagi, bagaimana cara memperpanjang SIM? Terima kasih — Ni Luh\r\n"
    ".a line that starts with a dot survives dot-stuffing\r\n"
).encode()


@dataclass
class Recorder:
    """on_mail for the tests: records deliveries, or fails as told."""

    mails: list[tuple[bytes, str | None]] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)

    async def __call__(self, raw: bytes, sender: str | None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.mails.append((raw, sender))


def _config(max_bytes: int = 64 * 1024) -> EmailListenConfig:
    # Port 0 (any free port) is for tests only, so it bypasses the config's validation.
    return EmailListenConfig(host="127.0.0.1", max_bytes=max_bytes).model_copy(update={"port": 0})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def listener(recorder: Recorder) -> AsyncIterator[MailListener]:
    server = MailListener(_config(), OWN, recorder)
    await server.start()
    yield server
    await server.stop()


def _send(
    port: int, sender: str, recipients: list[str], raw: bytes, **kw: list[str]
) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        return smtp.sendmail(sender, recipients, raw, **kw)


async def send(
    port: int, sender: str, recipients: list[str], raw: bytes = RAW, **kw: list[str]
) -> dict[str, tuple[int, bytes]]:
    return await asyncio.to_thread(_send, port, sender, recipients, raw, **kw)


async def test_mail_to_the_hub_is_delivered_byte_for_byte(
    listener: MailListener, recorder: Recorder
) -> None:
    assert await send(listener.port, CITIZEN, [OWN]) == {}
    assert recorder.mails == [(RAW, CITIZEN)]


async def test_banner_names_the_hub_domain_and_offers_no_auth(listener: MailListener) -> None:
    def greet() -> tuple[bytes, bytes]:
        with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as smtp:
            code, features = smtp.ehlo("mx.contoh.id")
            assert code == 250
            return smtp.ehlo_resp or b"", features

    _, features = await asyncio.to_thread(greet)
    lines = features.decode().upper().splitlines()
    assert lines[0] == "MPP.EXAMPLE"
    assert "8BITMIME" in lines and "SMTPUTF8" in lines
    assert not any(line.startswith("AUTH") for line in lines)


async def test_plus_address_and_any_case_accepted(
    listener: MailListener, recorder: Recorder
) -> None:
    assert await send(listener.port, CITIZEN, ["Layanan+SIM-123@MPP.Example"]) == {}
    assert recorder.mails == [(RAW, CITIZEN)]


@pytest.mark.parametrize(
    "recipient",
    [
        "someone@gmail.com",
        "layanan@mpp.example.evil.test",
        "xlayanan@mpp.example",
        "layananx@mpp.example",
        "layanan@sub.mpp.example",
    ],
)
async def test_other_recipients_refused_never_relayed(
    listener: MailListener, recorder: Recorder, recipient: str
) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await send(listener.port, CITIZEN, [recipient])
    code, text = refused.value.recipients[recipient]
    assert code == 550 and b"5.1.1" in text
    assert recorder.mails == []


async def test_mixed_recipients_only_the_hub_accepted_and_one_delivery(
    listener: MailListener, recorder: Recorder
) -> None:
    refused = await send(
        listener.port, CITIZEN, [OWN, "relay@example.org", "layanan+x@mpp.example"]
    )
    assert list(refused) == ["relay@example.org"]
    assert len(recorder.mails) == 1


async def test_at_most_ten_recipients(listener: MailListener, recorder: Recorder) -> None:
    recipients = [f"layanan+{n}@mpp.example" for n in range(MAX_RECIPIENTS + 1)]
    refused = await send(listener.port, CITIZEN, recipients)
    assert list(refused) == [recipients[-1]]
    assert refused[recipients[-1]][0] == 452
    assert len(recorder.mails) == 1


async def test_null_sender_is_empty_string(listener: MailListener, recorder: Recorder) -> None:
    await send(listener.port, "", [OWN])
    assert recorder.mails == [(RAW, "")]


async def test_utf8_envelope_sender(listener: MailListener, recorder: Recorder) -> None:
    await send(listener.port, "wayan.sárí@contoh.id", [OWN], mail_options=["SMTPUTF8"])
    assert recorder.mails == [(RAW, "wayan.sárí@contoh.id")]


async def test_oversize_refused_552_and_not_delivered(recorder: Recorder) -> None:
    server = MailListener(_config(max_bytes=1024), OWN, recorder)
    await server.start()
    try:
        big = RAW + b"x" * 70 + b"\r\n"
        big = big * (2048 // len(big) + 1)
        # smtplib announces SIZE, so MAIL FROM is refused up front ...
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await send(server.port, CITIZEN, [OWN], big)
        assert refused.value.smtp_code == 552

        # ... and a client that does not announce it is refused after DATA.
        def without_size() -> int:
            with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
                smtp.ehlo()
                assert smtp.mail(CITIZEN)[0] == 250
                assert smtp.rcpt(OWN)[0] == 250
                return smtp.data(big)[0]

        assert await asyncio.to_thread(without_size) == 552
        assert recorder.mails == []
    finally:
        await server.stop()


async def test_deferred_answers_451_and_the_retry_is_delivered(
    listener: MailListener, recorder: Recorder
) -> None:
    recorder.failures.append(MailDeferred("database down"))
    with pytest.raises(smtplib.SMTPDataError) as deferred:
        await send(listener.port, CITIZEN, [OWN])
    assert deferred.value.smtp_code == 451
    assert recorder.mails == []

    await send(listener.port, CITIZEN, [OWN])
    assert recorder.mails == [(RAW, CITIZEN)]


async def test_unexpected_failure_is_451_and_logged_without_personal_data(
    listener: MailListener, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.failures.append(RuntimeError(f"boom while storing {CITIZEN}: {RAW[:40]!r}"))
    with pytest.raises(smtplib.SMTPDataError) as failed:
        await send(listener.port, CITIZEN, [OWN])
    assert failed.value.smtp_code == 451
    await send(listener.port, CITIZEN, [OWN])  # and a normal delivery, logged as usual

    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (CITIZEN, OWN, "warga", "Perpanjangan", "Selamat"):
        assert secret not in text


async def test_stop_frees_the_port_and_is_idempotent(recorder: Recorder) -> None:
    server = MailListener(_config(), OWN, recorder)
    await server.start()
    port = server.port
    await send(port, CITIZEN, [OWN])
    await server.stop()
    await server.stop()
    with pytest.raises(ConnectionRefusedError):
        await send(port, CITIZEN, [OWN])

    # A restarted hub binds the same port again at once.
    again = MailListener(_config().model_copy(update={"port": port}), OWN, recorder)
    await again.start()
    try:
        await send(port, CITIZEN, [OWN])
    finally:
        await again.stop()
    assert len(recorder.mails) == 2


async def test_two_hub_processes_share_the_port(listener: MailListener) -> None:
    """Several hub processes on one machine listen on the same configured port."""
    second_mails = Recorder()
    config = _config().model_copy(update={"port": listener.port})
    second = MailListener(config, OWN, second_mails)
    await second.start()
    try:
        assert second.port == listener.port
        for _ in range(6):
            await send(listener.port, "budi@example.co.id", [OWN])
    finally:
        await second.stop()
    await send(listener.port, "budi@example.co.id", [OWN])  # the first still listens


AUTH_RESULTS = b"Authentication-Results: mx.mpp.example; dmarc=pass header.from=contoh.id\r\n"


async def test_authentication_results_are_kept_only_from_the_trusted_mta(
    recorder: Recorder,
) -> None:
    """The MTA in front (here: 127.0.0.1) wrote the header; from any other host it is a
    forgery and reaches the hub removed."""
    trusted = MailListener(_config(), OWN, recorder)
    untrusted = MailListener(
        _config().model_copy(update={"trusted_hosts": ["192.0.2.25", "10.0.0.0/8"]}),
        OWN,
        recorder,
    )
    for server in (trusted, untrusted):
        await server.start()
        try:
            assert await send(server.port, CITIZEN, [OWN], AUTH_RESULTS + RAW) == {}
        finally:
            await server.stop()
    assert recorder.mails == [(AUTH_RESULTS + RAW, CITIZEN), (RAW, CITIZEN)]

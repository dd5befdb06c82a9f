"""The hub reading a real mailbox: Dovecot over IMAPS (a test CA), answers through a
real SMTP relay. Mail is moved to ``Processed`` once stored, and a mail offered again
after a restart is not answered twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from hub.app import HUB, Hub, create_app
from hub.config import Settings
from hub.store.tables import conversations, messages
from tests.fakes.smtp_relay import SmtpRelay
from tests.mailservers import Dovecot
from tests.test_booking_dialog import fixed_clock
from tests.test_email_channel import (
    AUTHSERV_ID,
    CITIZEN,
    FIXTURES,
    HUB_ADDRESS,
    citizen_mail,
    plain,
    vouch_for,
)

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def mailbox() -> Iterator[Dovecot]:
    with Dovecot(tls=True) as server:
        yield server


def imap_settings(
    make_settings: Callable[..., Settings], relay: SmtpRelay, mailbox: Dovecot, tmp_path: Path
) -> Settings:
    return make_settings(
        channels={
            "email": {
                "enabled": True,
                "address": HUB_ADDRESS,
                "smtp": {"host": "127.0.0.1", "port": relay.port, "starttls": False},
                "imap": mailbox.imap_config(
                    ca_file=str(mailbox.root / "ca.pem"), move_to="Processed", poll_seconds=0.2
                ).model_dump(),
                "attachments_dir": str(tmp_path / "mail-files"),
                # The mailbox provider's id in real life (mx.google.com for Gmail).
                "authserv_ids": [AUTHSERV_ID],
            }
        },
    )


async def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not _holds(check):
            await asyncio.sleep(0.05)


def _holds(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except AssertionError:  # the folder is not there yet
        return False


async def stored_inbound(hub: Hub) -> list[str]:
    async with hub.db.begin() as conn:
        rows = await conn.execute(
            sa.select(messages.c.text)
            .where(messages.c.direction == "inbound")
            .order_by(messages.c.id)
        )
        return [str(r.text) for r in rows]


async def test_mail_in_the_mailbox_is_answered_moved_and_never_twice(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    mailbox: Dovecot,
    tmp_path: Path,
) -> None:
    settings = imap_settings(make_settings, relay, mailbox, tmp_path)
    question = citizen_mail("jam buka mpp hari ini?", subject="Jam buka")
    raw = question.as_bytes().replace(b"\n", b"\r\n")
    mailbox.append(raw)

    client = await aiohttp_client(create_app(settings, clock=fixed_clock))
    [answer] = await relay.wait_for(1)
    assert answer.rcpt_tos == [CITIZEN]
    assert answer.mail["In-Reply-To"] == question["Message-ID"]
    assert "08.00" in plain(answer.mail)
    await wait_until(lambda: mailbox.count("Processed") == 1)
    assert mailbox.count("INBOX") == 0
    [(_, flags)] = mailbox.flags("Processed").items()
    assert "\\Seen" in flags
    await client.close()

    # The same mail offered again (a forwarder's retry), to a restarted hub.
    mailbox.append(raw)
    client = await aiohttp_client(create_app(settings, clock=fixed_clock))
    await wait_until(lambda: mailbox.count("Processed") == 2)
    hub = cast(Hub, client.app[HUB])
    await hub.inbound.idle()
    await hub.dispatcher.drain()
    assert len(relay.received) == 1, "answered once"
    assert await stored_inbound(hub) == ["jam buka mpp hari ini?"]


async def test_real_world_mail_reaches_the_bot_as_the_citizens_own_words(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    mailbox: Dovecot,
    tmp_path: Path,
) -> None:
    fixtures = ["gmail_reply_id.eml", "outlook_reply.eml", "html_only.eml", "latin1_qp.eml"]
    for name in fixtures:
        raw = (FIXTURES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        mailbox.append(vouch_for(raw))
    mailbox.append((FIXTURES / "out_of_office.eml").read_bytes().replace(b"\n", b"\r\n"))
    client = await aiohttp_client(
        create_app(imap_settings(make_settings, relay, mailbox, tmp_path), clock=fixed_clock)
    )
    hub = cast(Hub, client.app[HUB])
    await wait_until(lambda: mailbox.count("Processed") == len(fixtures) + 1)
    answers = await relay.wait_for(len(fixtures))
    await hub.inbound.idle()
    await hub.dispatcher.drain()
    assert len(relay.received) == len(fixtures), "the out-of-office got no answer"
    texts = await stored_inbound(hub)
    assert len(texts) == len(fixtures)
    for text in texts:
        assert ">" not in text and "wrote:" not in text and "menulis:" not in text
        assert "-----Original Message-----" not in text and "From:" not in text
    gmail = texts[0]
    assert "akta kelahiran hilang" in gmail
    async with hub.db.begin() as conn:
        subjects = [
            r.subject
            for r in await conn.execute(
                sa.select(conversations.c.subject).order_by(conversations.c.id)
            )
        ]
    assert "Syarat bikin KTP" in subjects, "the Re: is not part of the subject kept"
    assert all(a.mail["Subject"].startswith("Re: ") for a in answers)


async def test_two_hub_processes_polling_one_mailbox_answer_each_mail_once(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    mailbox: Dovecot,
    tmp_path: Path,
    pg_url: str,
    hub_redis_url: str,
) -> None:
    """Both processes poll the mailbox, one at a time under a Redis lock (two moving the
    same mail at once could leave two copies in Processed); each mail gets one answer."""
    settings = imap_settings(make_settings, relay, mailbox, tmp_path).model_copy(
        update={
            "storage": make_settings(pg_url).storage,
            "redis": make_settings(redis={"url": hub_redis_url}).redis,
        }
    )
    questions = [
        citizen_mail(f"jam buka mpp? ({n})", subject=f"Jam {n}", sender=f"warga{n}@example.co.id")
        for n in range(6)
    ]
    for question in questions:
        mailbox.append(question.as_bytes().replace(b"\n", b"\r\n"))
    first = await aiohttp_client(create_app(settings, clock=fixed_clock))
    second = await aiohttp_client(create_app(settings, clock=fixed_clock))
    await relay.wait_for(len(questions))
    await wait_until(lambda: mailbox.count("Processed") == len(questions))
    for client in (first, second):
        hub = cast(Hub, client.app[HUB])
        await hub.inbound.idle()
        await hub.dispatcher.drain()
    answered = sorted(str(r.mail["In-Reply-To"]) for r in relay.received)
    assert answered == sorted(str(q["Message-ID"]) for q in questions), "each mail once"
    assert mailbox.count("Processed") == len(questions) and mailbox.count("INBOX") == 0

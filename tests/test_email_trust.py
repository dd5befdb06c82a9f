"""Impersonation by mail, end to end: a forged From never writes into a citizen's
history, and a forged From or Reply-To never makes the hub mail anyone.

The hub runs with its SMTP listener behind a (pretend) MTA whose authserv-id is
``mx.mpp.example``; mail delivered from 127.0.0.1 stands for what that MTA passes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.app import Hub
from hub.config import Settings
from hub.store.tables import contacts, conversations, identities, messages
from tests.fakes.smtp_relay import SmtpRelay
from tests.test_email_channel import (
    AUTHSERV_ID,
    CITIZEN,
    AiohttpClient,
    MailHub,
    citizen_mail,
    not_answered,
    start_hub,
)

VICTIM = "niluh@example.co.id"


@pytest.fixture
async def mailhub(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> MailHub:
    return await start_hub(aiohttp_client, make_settings, relay, tmp_path)


async def inbound_of(hub: Hub) -> list[tuple[int, int, str, str]]:
    """(conversation, contact, address, text) of every stored inbound mail, in order."""
    async with hub.db.begin() as conn:
        rows = await conn.execute(
            sa.select(
                messages.c.conversation_id,
                conversations.c.contact_id,
                conversations.c.address,
                messages.c.text,
            )
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(messages.c.direction == "inbound")
            .order_by(messages.c.id)
        )
        return [(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]


async def outbound_count(hub: Hub) -> int:
    """Answers queued at all (the relay may not have seen a queued one yet)."""
    async with hub.db.begin() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(messages)
            .where(messages.c.direction == "outbound")
        )
    return int(count or 0)


async def handoff_of(hub: Hub, conversation_id: int) -> tuple[str, str | None]:
    async with hub.db.begin() as conn:
        row = (
            await conn.execute(
                sa.select(conversations.c.status, conversations.c.handoff_reason).where(
                    conversations.c.id == conversation_id
                )
            )
        ).one()
    return str(row.status), row.handoff_reason


FORGERIES = {
    "no header at all": None,
    "dmarc failed at our MTA": f"{AUTHSERV_ID}; dmarc=fail (p=reject) header.from=example.co.id",
    "a pass from a server we do not trust": (
        "mx.attacker.example; dkim=pass header.d=example.co.id;"
        " dmarc=pass header.from=example.co.id"
    ),
    "spf passed for another domain": f"{AUTHSERV_ID}; spf=pass smtp.mailfrom=attacker.example",
}


@pytest.mark.parametrize("forged_header", list(FORGERIES.values()), ids=list(FORGERIES))
async def test_a_forged_from_of_a_known_citizen_gets_its_own_conversation_and_no_answer(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
    db_url: str,
    forged_header: str | None,
) -> None:
    mailhub = await start_hub(aiohttp_client, make_settings, relay, tmp_path, db_url)
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    [answer] = await mailhub.answers(1)
    await mailhub.settle()
    [(citizens_conversation, citizens_contact, _, _)] = await inbound_of(mailhub.hub)
    async with mailhub.hub.db.begin() as conn:
        identity_before = (await conn.execute(sa.select(identities))).all()

    # Someone else writes as Budi, answering the hub's mail to slip into his thread.
    forged = citizen_mail("batalkan semua booking saya", answering=answer.mail, vouched=False)
    if forged_header is not None:
        forged["Authentication-Results"] = forged_header
    forged["Reply-To"] = VICTIM
    await mailhub.deliver(forged.as_bytes())
    await mailhub.settle()

    assert len(mailhub.relay.received) == 1, "nobody is mailed: not Budi, not the Reply-To"
    assert await outbound_count(mailhub.hub) == 1
    kept = await inbound_of(mailhub.hub)
    assert kept[0] == (citizens_conversation, citizens_contact, CITIZEN, "jam buka mpp?")
    [(conversation_id, contact_id, address, text)] = kept[1:]
    assert conversation_id != citizens_conversation and contact_id != citizens_contact
    assert (address, text) == (CITIZEN, "batalkan semua booking saya")
    assert await handoff_of(mailhub.hub, conversation_id) == ("handoff", "unverified")
    assert await handoff_of(mailhub.hub, citizens_conversation) == ("bot", None)
    async with mailhub.hub.db.begin() as conn:
        assert (await conn.execute(sa.select(identities))).all() == identity_before
    assert await not_answered(mailhub) == {"unverified": 1.0}


async def test_budi_verified_again_continues_his_own_history_not_the_forgery(
    mailhub: MailHub,
) -> None:
    await mailhub.deliver(citizen_mail("jam buka mpp?", subject="Jam").as_bytes())
    [answer] = await mailhub.answers(1)
    await mailhub.deliver(citizen_mail("saya Budi, palsu", subject="x", vouched=False).as_bytes())
    await mailhub.settle()
    await mailhub.deliver(citizen_mail("lalu biayanya?", answering=answer.mail).as_bytes())
    [_, second] = await mailhub.answers(2)
    assert second.rcpt_tos == [CITIZEN]
    assert second.mail["Subject"] == "Re: Jam"
    first, forged, again = await inbound_of(mailhub.hub)
    assert again[:2] == first[:2], "merged into Budi's conversation and contact"
    assert forged[1] != first[1]


async def test_the_reply_to_of_an_unverified_form_mail_is_never_mailed(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> None:
    mailhub = await start_hub(
        aiohttp_client, make_settings, relay, tmp_path, form_senders=["forms.example.go.id"]
    )
    form = citizen_mail(
        "Nama: Ni Luh\nPesan: jam buka?",
        sender="noreply@forms.example.go.id",
        name="Formulir Website",
        vouched=False,
    )
    form["Reply-To"] = VICTIM
    await mailhub.deliver(form.as_bytes(), mail_from="noreply@forms.example.go.id")
    await mailhub.settle()
    assert mailhub.relay.received == []
    assert await outbound_count(mailhub.hub) == 0
    [(_, _, address, _)] = await inbound_of(mailhub.hub)
    assert address == "noreply@forms.example.go.id", "filed under the From, not the Reply-To"
    assert await not_answered(mailhub) == {"unverified": 1.0}


async def test_a_verified_senders_reply_to_is_not_followed_unless_it_is_our_form(
    mailhub: MailHub,
) -> None:
    """An attacker's own domain passes DMARC too; its Reply-To naming a citizen must not
    make the hub mail her or write into her history."""
    mail = citizen_mail("jam buka?", sender="noreply@attacker.example", name="Formulir")
    mail["Reply-To"] = VICTIM
    await mailhub.deliver(mail.as_bytes(), mail_from="noreply@attacker.example")
    [answer] = await mailhub.answers(1)
    assert answer.rcpt_tos == ["noreply@attacker.example"]
    [(_, _, address, _)] = await inbound_of(mailhub.hub)
    assert address == "noreply@attacker.example"


async def test_dkim_aligned_without_dmarc_is_verified_and_answered(mailhub: MailHub) -> None:
    mail = citizen_mail("jam buka?", subject="Jam", vouched=False)
    mail["Authentication-Results"] = (
        f"{AUTHSERV_ID}; dkim=pass (2048-bit key) header.d=example.co.id header.s=sel"
    )
    await mailhub.deliver(mail.as_bytes())
    [answer] = await mailhub.answers(1)
    assert answer.rcpt_tos == [CITIZEN]


async def test_without_authserv_ids_no_mail_is_answered_or_merged(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> None:
    """The default: nothing configured, nobody verified (safe until the operator says
    which server's word counts)."""
    mailhub = await start_hub(aiohttp_client, make_settings, relay, tmp_path, authserv_ids=[])
    for text in ("jam buka?", "halo?"):
        await mailhub.deliver(citizen_mail(text, subject="Jam").as_bytes())
    await mailhub.settle()
    assert mailhub.relay.received == []
    assert await outbound_count(mailhub.hub) == 0
    first, second = await inbound_of(mailhub.hub)
    assert first[1] != second[1], "two unverified mails never share a history"
    async with mailhub.hub.db.begin() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(identities)) == 0
        assert await conn.scalar(sa.select(sa.func.count()).select_from(contacts)) == 2


async def test_the_listener_ignores_authentication_results_from_an_untrusted_host(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    relay: SmtpRelay,
    tmp_path: Path,
) -> None:
    """Connecting to the hub's listener directly (not through the MTA) with a header
    naming the trusted server does not make a mail verified."""
    mailhub = await start_hub(
        aiohttp_client,
        make_settings,
        relay,
        tmp_path,
        listen={"enabled": True, "port": 0, "trusted_hosts": ["192.0.2.25"]},
    )
    await mailhub.deliver(citizen_mail("jam buka?", subject="Jam").as_bytes())
    await mailhub.settle()
    assert mailhub.relay.received == []
    assert await outbound_count(mailhub.hub) == 0
    assert await not_answered(mailhub) == {"unverified": 1.0}

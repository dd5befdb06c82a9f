"""A targeted notice ("everyone booked for KTP on Tuesday: the counter closes") through the
real app on the web chat: it reaches the booked citizen whether subscribed or not, names
the booking, and the citizen's answer continues into the booking flow for that booking.
And the one-click unsubscribe link of announcement mails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.announcements import Audience
from hub.announcements.unsubscribe_links import contact_of, token_for
from hub.app import HUB, create_app
from hub.channels.sms_text import segments
from hub.config import Settings
from hub.model import utcnow
from hub.store import contacts
from hub.store.tables import identities
from tests.clock import Clock
from tests.fakes.twilio import FakeTwilio
from tests.test_reminders import MONDAY, TUESDAY, book_on_web_chat, say, wita
from tests.test_twilio import CONTENT_SID, settings_for

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]


async def test_a_targeted_notice_leads_into_moving_the_booking(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    clock = Clock(wita(MONDAY, 8))
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat, booking = await book_on_web_chat(client)
    # Someone booked on another day is not in the audience.
    assert await hub.subscriptions.subscriber_counts() == {}

    draft = await hub.announcements.draft(
        text_id="Loket KTP-el tutup hari Selasa karena gangguan jaringan.",
        audience=Audience(TUESDAY, service=booking.service_id),
        created_by="officer:1",
    )
    await hub.announcements.approve(draft.id, "officer:1")
    await hub.broadcaster.drain()

    [notice] = await chat.replies(1, timeout=10)
    assert "Loket KTP-el tutup hari Selasa" in notice["text"]
    assert booking.code in notice["text"]
    titles = [c["title"] for c in notice.get("choices", [])]
    assert titles == ["Ubah jadwal antrean", "Batalkan antrean"], notice

    await chat.say("1")
    [answer] = await chat.replies(1, timeout=10)
    # The reschedule flow for this very booking asks for the new day.
    assert answer["text"].startswith("Pindah antrean KTP-el baru ke tanggal berapa?"), answer
    state = await _state(hub, booking.conversation_id)
    assert booking.code in str(state), state


async def _state(hub: Any, conversation_id: int | None) -> dict[str, Any]:
    from hub.store import conversations

    assert conversation_id is not None
    async with hub.db.engine.connect() as conn:
        found = await conversations.get(conn, conversation_id)
    assert found is not None
    return dict(found.state)


async def test_the_unsubscribe_link_asks_then_unsubscribes(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    hub = client.app[HUB]
    async with hub.db.begin() as conn:
        contact = await contacts.resolve_contact(hub.db, conn, "email", "warga@example.org")
    await hub.subscriptions.subscribe(
        contact, ["pengumuman", "jadwal"], channel="email", address="warga@example.org", words="ya"
    )
    token = token_for(contact, hub.keys.secret)
    assert contact_of(token, hub.keys.secret) == contact

    page = await client.get(f"/unsubscribe/{token}")
    assert page.status == 200 and "Berhenti berlangganan" in await page.text()
    # Following the link (a mail scanner does) changes nothing.
    assert len(await hub.subscriptions.held(contact)) == 2

    done = await client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status == 200 and "tidak akan menerima" in await done.text()
    assert await hub.subscriptions.held(contact) == []
    last = (await hub.subscriptions.consents(contact))[-1]
    assert (last.action, last.topic, last.source) == ("unsubscribe", None, "email_link")


async def test_a_forged_unsubscribe_token_changes_nothing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    hub = client.app[HUB]
    async with hub.db.begin() as conn:
        contact = await contacts.resolve_contact(hub.db, conn, "email", "a@example.org")
    await hub.subscriptions.subscribe(
        contact, ["jadwal"], channel="email", address="a@example.org", words="ya"
    )
    other_signature = token_for(contact + 1, hub.keys.secret).split(".")[1]
    for token in (f"c{contact}.{other_signature}", f"c{contact}", "x" * 40):
        response = await client.post(f"/unsubscribe/{token}")
        assert response.status == 404
    assert [t.id for t in await hub.subscriptions.held(contact)] == ["jadwal"]


# --- the real Twilio channel, against the fake Twilio API ------------------------------------


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def _subscriber_on(client: TestClient[Any, Any], twilio: FakeTwilio, name: str) -> int:
    """A citizen writes on Twilio ``name`` (their number is the fixture's) and subscribes."""
    hub = client.app[HUB]
    await say(client, name, 1, "halo")
    await twilio.wait_for_messages(1)
    address = "+6281234567890"
    async with hub.db.begin() as conn:
        contact = await contacts.resolve_contact(hub.db, conn, "whatsapp", address)
    channel = "whatsapp" if name.startswith("whatsapp") else "sms"
    await hub.subscriptions.subscribe(
        contact, ["imigrasi"], channel=channel, address=address, words="langganan imigrasi"
    )
    return contact


async def test_whatsapp_outside_the_window_gets_the_topics_approved_template(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    settings = settings_for(make_settings, twilio, templates={"announcement_imigrasi": CONTENT_SID})
    client = await aiohttp_client(create_app(settings))
    hub = client.app[HUB]
    await _subscriber_on(client, twilio, "whatsapp_text")
    async with hub.db.begin() as conn:
        await conn.execute(
            sa.update(identities).values(last_inbound_at=utcnow() - timedelta(days=2))
        )

    draft = await hub.announcements.draft(
        text_id="Layanan paspor Sabtu ini buka.", topics=["imigrasi"], created_by="officer:1"
    )
    await hub.announcements.approve(draft.id, "officer:1")
    sent = (await twilio.wait_for_messages(2))[1]

    assert sent.field("ContentSid") == CONTENT_SID
    assert sent.field("Body") == ""
    [variable] = json.loads(sent.field("ContentVariables")).values()
    assert "Layanan paspor Sabtu ini buka." in variable


async def test_an_sms_announcement_stays_within_the_segment_budget(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    settings = settings_for(make_settings, twilio)
    client = await aiohttp_client(create_app(settings))
    hub = client.app[HUB]
    await _subscriber_on(client, twilio, "sms_text")
    long_text = "Mulai 1 Januari, pengambilan paspor hanya dengan nomor antrean daring. " * 8

    draft = await hub.announcements.draft(
        text_id=long_text, topics=["imigrasi"], created_by="officer:1"
    )
    greeting = len(twilio.messages)
    await hub.announcements.approve(draft.id, "officer:1")
    sent = (await twilio.wait_for_messages(greeting + 1))[greeting]

    body = sent.field("Body")
    assert body.startswith("MPP Badung: Mulai 1 Januari") and body.endswith("...")
    assert segments(body) <= settings.announcements.sms_max_segments

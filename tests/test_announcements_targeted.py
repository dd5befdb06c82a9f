"""A targeted notice ("everyone booked for KTP on Tuesday: the counter closes") through the
real app on the web chat: it reaches the booked citizen whether subscribed or not, names
the booking, and the citizen's answer continues into the booking flow for that booking.
And the one-click unsubscribe link of announcement mails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.announcements import Audience
from hub.announcements.unsubscribe_links import contact_of, token_for
from hub.app import HUB, create_app
from hub.config import Settings
from hub.store import contacts
from tests.clock import Clock
from tests.test_reminders import MONDAY, TUESDAY, book_on_web_chat, wita

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

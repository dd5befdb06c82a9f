"""Announcements end to end through a Hub: drafting rules, the audience, pacing, the bulk
lane, pause and cancel, a restart in the middle, two processes, the channel rules.

Citizens write through the inbound pipeline on recording channels, so their contacts and
conversations are real; subscriptions are made through the domain service (the chat side
is tested in the dialog tests). Waiting is always a bounded poll of the outbox."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.announcements import AnnouncementError, Audience
from hub.app import Hub
from hub.channels.base import Capabilities, Channel
from hub.channels.sms_text import fit_segments, segments
from hub.config import Settings
from hub.model import InboundMessage, OutboundMessage, SendResult, utcnow
from hub.store import announcements as store
from hub.store import outbox as outbox_store
from hub.store.tables import announcement_deliveries, outbox

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")

MakeSettings = Callable[..., Settings]
_ids = itertools.count(1)


class Recorder(Channel):
    """A channel that records what it is given; ``hold`` keeps sends waiting."""

    def __init__(self, name: str, capabilities: Capabilities | None = None) -> None:
        self.name = name
        self.capabilities = capabilities or Capabilities()
        self.sent: list[OutboundMessage] = []
        self.hold = asyncio.Event()
        self.hold.set()

    async def send(self, message: OutboundMessage) -> SendResult:
        await self.hold.wait()
        self.sent.append(message)
        return SendResult(provider_message_id=f"{self.name}-{len(self.sent)}")

    def to(self, recipient: str) -> list[OutboundMessage]:
        return [m for m in self.sent if m.recipient == recipient]


@asynccontextmanager
async def running(
    settings: Settings, *channels: Channel, dispatch: bool = True
) -> AsyncIterator[Hub]:
    hub = Hub(settings, extra_channels=list(channels), include_configured_channels=False)
    try:
        await hub.start(dispatch=dispatch)
        yield hub
    finally:
        await hub.close()


async def citizen(hub: Hub, channel: str, sender: str, text: str = "halo") -> int:
    """A citizen writes once (so they have a contact and a conversation); their contact id."""
    await hub.inbound.accept(
        InboundMessage(
            channel=channel, sender=sender, provider_message_id=f"in-{next(_ids)}", text=text
        )
    )
    await hub.inbound.idle()
    async with hub.db.engine.connect() as conn:
        from hub.store.tables import identities

        found = await conn.scalar(
            sa.select(identities.c.contact_id).where(
                identities.c.channel == channel, identities.c.address == sender
            )
        )
    assert found is not None
    return int(found)


async def subscribe(hub: Hub, contact: int, channel: str, sender: str, *topics: str) -> None:
    await hub.subscriptions.subscribe(
        contact, topics, channel=channel, address=sender, words="langganan"
    )


async def until(check: Callable[[], Any], seconds: float = 10.0) -> None:
    """Poll ``check`` (sync or async) until it is true, failing after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


def announcement_texts(channel: Recorder, recipient: str) -> list[str]:
    return [m.text for m in channel.to(recipient) if m.bulk]


# --- drafting ------------------------------------------------------------------------------


async def test_a_draft_needs_text_and_exactly_one_audience(make_settings: MakeSettings) -> None:
    async with running(make_settings(), Recorder("fake"), dispatch=False) as hub:
        service = hub.announcements
        with pytest.raises(AnnouncementError, match="either topics or"):
            await service.draft(text_id="x", created_by="officer:1")
        with pytest.raises(AnnouncementError, match="unknown topic"):
            await service.draft(text_id="x", topics=["nope"], created_by="officer:1")
        with pytest.raises(AnnouncementError, match="Indonesian text"):
            await service.draft(text_id="  ", topics=["jadwal"], created_by="officer:1")
        with pytest.raises(AnnouncementError, match="unknown service"):
            await service.draft(
                text_id="x",
                audience=Audience(utcnow().date(), service="nope"),
                created_by="officer:1",
            )
        draft = await service.draft(
            text_id="Loket tutup", topics=["jadwal"], created_by="officer:1"
        )
        assert draft.status == "draft"
        # Nothing leaves before approval.
        assert await service.sending() == []
        with pytest.raises(AnnouncementError, match="only a draft"):
            await service.approve(draft.id, "officer:2")
            await service.approve(draft.id, "officer:2")


# --- sending -------------------------------------------------------------------------------


async def test_only_subscribers_get_it_once_in_their_language(make_settings: MakeSettings) -> None:
    fake = Recorder("fake")
    async with running(make_settings(), fake) as hub:
        ana = await citizen(hub, "fake", "ana", "halo")
        bob = await citizen(hub, "fake", "bob", "hello, good morning")
        await citizen(hub, "fake", "cici", "halo")  # never opted in
        dewi = await citizen(hub, "fake", "dewi", "halo")
        await subscribe(hub, ana, "fake", "ana", "imigrasi", "jadwal")
        await subscribe(hub, bob, "fake", "bob", "imigrasi")
        await subscribe(hub, dewi, "fake", "dewi", "pengumuman")  # another topic

        draft = await hub.announcements.draft(
            text_id="Layanan paspor tutup besok.",
            text_en="The passport counter is closed tomorrow.",
            topics=["imigrasi", "jadwal"],
            title="Info Imigrasi",
            created_by="officer:1",
        )
        started = await hub.announcements.approve(draft.id, "officer:2")
        assert started.status == "sending" and started.recipients == 2

        await until(lambda: len(fake.to("ana")) + len(fake.to("bob")) >= 4)
        await until(lambda: hub.announcements.progress(draft.id))
        await until(lambda: _status_is(hub, draft.id, "sent"))
        await hub.dispatcher.drain()

        [to_ana] = announcement_texts(fake, "ana")
        [to_bob] = announcement_texts(fake, "bob")
        assert "Layanan paspor tutup besok." in to_ana and "Info Imigrasi" in to_ana
        assert "BERHENTI" in to_ana
        assert "The passport counter is closed tomorrow." in to_bob and "STOP" in to_bob
        assert announcement_texts(fake, "cici") == []
        assert announcement_texts(fake, "dewi") == []
        progress = await hub.announcements.progress(draft.id)
        assert progress["recipients"] == 2 and progress["sent"] == 2
        assert progress["queued"] == 0 and progress["failed"] == 0


async def _status_is(hub: Hub, announcement_id: int, status: str) -> bool:
    found = await hub.announcements.get(announcement_id)
    return found is not None and found.status == status


async def test_an_unsubscribe_after_the_start_is_respected(make_settings: MakeSettings) -> None:
    async with running(make_settings(), Recorder("fake"), dispatch=False) as hub:
        ana = await citizen(hub, "fake", "ana")
        bob = await citizen(hub, "fake", "bob")
        await subscribe(hub, ana, "fake", "ana", "jadwal")
        await subscribe(hub, bob, "fake", "bob", "jadwal")
        draft = await hub.announcements.draft(
            text_id="Tutup Nyepi", topics=["jadwal"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        await hub.subscriptions.unsubscribe(bob, None, channel="fake", words="STOP")

        await hub.broadcaster.drain()

        progress = await hub.announcements.progress(draft.id)
        assert progress["skipped"] == 1 and progress["sending"] == 1
        assert progress["opted_out_since"] == 1


async def test_live_replies_go_before_announcement_rows(make_settings: MakeSettings) -> None:
    async with running(make_settings(), Recorder("fake"), dispatch=False) as hub:
        contacts = [await citizen(hub, "fake", f"c{i}") for i in range(5)]
        for i, contact in enumerate(contacts):
            await subscribe(hub, contact, "fake", f"c{i}", "pengumuman")
        await hub.dispatcher.drain()
        draft = await hub.announcements.draft(
            text_id="Info", topics=["pengumuman"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        await hub.broadcaster.drain()
        # A citizen writes after the broadcast rows were queued.
        await citizen(hub, "fake", "late", "halo")

        claimed = await outbox_store.claim_due(hub.db, ["fake"], 1, 60)

        assert [row.payload.get("bulk") for row in claimed] == [False]
        assert claimed[0].payload["recipient"] == "late"


async def test_pacing_and_backlog_bound_what_one_round_hands(make_settings: MakeSettings) -> None:
    settings = make_settings(announcements={"rate_per_second": {"fake": 3}, "backlog": 100})
    async with running(settings, Recorder("fake"), dispatch=False) as hub:
        for i in range(8):
            contact = await citizen(hub, "fake", f"p{i}")
            await subscribe(hub, contact, "fake", f"p{i}", "pengumuman")
        draft = await hub.announcements.draft(
            text_id="Info", topics=["pengumuman"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")

        first = await hub.broadcaster.round()
        assert first == 3  # the channel's pace: 3 a second, counted in the shared limiter

    backlog = make_settings(announcements={"rate_per_second": {"fake": 100}, "backlog": 2})
    async with running(backlog, Recorder("fake"), dispatch=False) as hub:
        # The 3 rows handed above still wait in the outbox: more than the backlog allows.
        assert await hub.broadcaster.round() == 0
        await hub.dispatcher.drain()
        assert await hub.broadcaster.round() == 2
        assert await hub.broadcaster.round() == 0
        async with hub.db.engine.connect() as conn:
            assert await store.bulk_waiting(conn, "fake") == 2


async def test_pause_stops_handing_and_cancel_takes_back_what_waits(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(announcements={"rate_per_second": {"fake": 2}, "backlog": 100})
    async with running(settings, Recorder("fake"), dispatch=False) as hub:
        for i in range(6):
            contact = await citizen(hub, "fake", f"q{i}")
            await subscribe(hub, contact, "fake", f"q{i}", "pengumuman")
        await hub.dispatcher.drain()  # the greetings
        draft = await hub.announcements.draft(
            text_id="Info", topics=["pengumuman"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        assert await hub.broadcaster.round() == 2

        assert await hub.announcements.pause(draft.id)
        await asyncio.sleep(1.1)  # the pacing window passes; a paused one still gets nothing
        assert await hub.broadcaster.round() == 0
        assert await hub.announcements.resume(draft.id)
        assert await hub.broadcaster.round() == 2

        assert await hub.announcements.cancel(draft.id)
        progress = await hub.announcements.progress(draft.id)
        assert progress["cancelled"] == 6  # 2 queued + 4 still pending in the outbox
        assert await hub.dispatcher.dispatch_once() == 0
        assert not await hub.announcements.resume(draft.id)


async def test_a_restart_in_the_middle_sends_nobody_twice(make_settings: MakeSettings) -> None:
    settings = make_settings(announcements={"rate_per_second": {"fake": 4}, "backlog": 100})
    first = Recorder("fake")
    async with running(settings, first, dispatch=False) as hub:
        for i in range(10):
            contact = await citizen(hub, "fake", f"r{i}")
            await subscribe(hub, contact, "fake", f"r{i}", "jadwal")
        await hub.dispatcher.drain()
        draft = await hub.announcements.draft(
            text_id="Tutup", topics=["jadwal"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        assert await hub.broadcaster.round() == 4
        await hub.dispatcher.drain()
        before = [m.recipient for m in first.sent if m.bulk]
        assert len(before) == 4

    second = Recorder("fake")
    async with running(settings, second) as hub:
        await until(lambda: _status_is(hub, draft.id, "sent"))
        await until(lambda: len([m for m in second.sent if m.bulk]) == 6)
        after = [m.recipient for m in second.sent if m.bulk]
    assert sorted(before + after) == sorted(f"r{i}" for i in range(10))


async def test_a_scheduled_announcement_starts_once_with_two_processes(
    make_settings: MakeSettings, pg_url: str, hub_redis_url: str
) -> None:
    settings = make_settings(
        pg_url,
        redis={"url": hub_redis_url},
        scheduler={"tick_seconds": 0.1},
        announcements={"rate_per_second": {"fake": 50}},
    )
    one, two = Recorder("fake"), Recorder("fake")
    async with running(settings, one) as first, running(settings, two) as second:
        for i in range(12):
            contact = await citizen(first, "fake", f"s{i}")
            await subscribe(first, contact, "fake", f"s{i}", "pengumuman")
        draft = await first.announcements.draft(
            text_id="Besok buka jam 9",
            topics=["pengumuman"],
            send_at=utcnow() + timedelta(seconds=1),
            created_by="officer:1",
        )
        scheduled = await second.announcements.approve(draft.id, "officer:2")
        assert scheduled.status == "scheduled"

        await until(lambda: _status_is(first, draft.id, "sent"), seconds=20)
        await until(lambda: len([m for m in one.sent + two.sent if m.bulk]) >= 12, seconds=20)
        await asyncio.sleep(0.3)  # anything sent twice would arrive by now
    got = sorted(m.recipient for m in one.sent + two.sent if m.bulk)
    assert got == sorted(f"s{i}" for i in range(12))
    async with first.db.engine.connect() as conn:
        rows = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(announcement_deliveries)
            .where(announcement_deliveries.c.announcement_id == draft.id)
        )
    assert rows == 12


# --- channel rules -------------------------------------------------------------------------


async def test_whatsapp_outside_the_window_gets_the_topic_template(
    make_settings: MakeSettings,
) -> None:
    whatsapp = Recorder("whatsapp", Capabilities(session_window_hours=24, buttons=True))
    async with running(make_settings(), whatsapp) as hub:
        recent = await citizen(hub, "whatsapp", "+6281100000001")
        old = await citizen(hub, "whatsapp", "+6281100000002")
        await subscribe(hub, recent, "whatsapp", "+6281100000001", "imigrasi")
        await subscribe(hub, old, "whatsapp", "+6281100000002", "imigrasi")
        from hub.store.tables import identities

        async with hub.db.begin() as conn:
            await conn.execute(
                sa.update(identities)
                .where(identities.c.address == "+6281100000002")
                .values(last_inbound_at=utcnow() - timedelta(hours=25))
            )
        draft = await hub.announcements.draft(
            text_id="Paspor", topics=["imigrasi"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        await until(lambda: _status_is(hub, draft.id, "sent"))
        await until(lambda: len([m for m in whatsapp.sent if m.bulk]) == 2)

    by_recipient = {m.recipient: m for m in whatsapp.sent if m.bulk}
    assert by_recipient["+6281100000001"].window_open
    assert not by_recipient["+6281100000002"].window_open
    assert {m.template_key for m in by_recipient.values()} == {"announcement_imigrasi"}


async def test_sms_is_cut_to_the_segment_budget(make_settings: MakeSettings) -> None:
    sms = Recorder("sms", Capabilities(max_text_length=1600))
    settings = make_settings(announcements={"sms_max_segments": 1})
    async with running(settings, sms) as hub:
        contact = await citizen(hub, "sms", "+6281100000003")
        await subscribe(hub, contact, "sms", "+6281100000003", "jadwal")
        long_text = "Pelayanan MPP Badung tutup sementara karena pemeliharaan listrik. " * 6
        draft = await hub.announcements.draft(
            text_id=long_text, topics=["jadwal"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        await until(lambda: len([m for m in sms.sent if m.bulk]) == 1)
    [message] = [m for m in sms.sent if m.bulk]
    assert segments(message.text) == 1
    assert message.text.endswith("...")


def test_fit_segments_keeps_the_menu_whole() -> None:
    menu = "\nBalas dengan angka:\n1. Ubah jadwal antrean\n2. Batalkan antrean"
    text = fit_segments("kata " * 200, 2, menu)
    assert segments(text) == 2 and text.endswith(menu)
    assert fit_segments("pendek", 1) == "pendek"
    # Curly quotes would make it UCS-2 (70 characters a segment): they become plain.
    assert fit_segments("“Tutup” besok", 1) == '"Tutup" besok'


async def test_email_gets_its_own_subject_and_one_click_unsubscribe(
    make_settings: MakeSettings,
) -> None:
    email = Recorder("email", Capabilities(threaded=True, max_text_length=100_000))
    async with running(make_settings(), email) as hub:
        contact = await citizen(hub, "email", "warga@example.org")
        await subscribe(hub, contact, "email", "warga@example.org", "pengumuman")
        draft = await hub.announcements.draft(
            text_id="Jam layanan baru",
            title="Jam layanan baru MPP",
            topics=["pengumuman"],
            created_by="officer:1",
        )
        await hub.announcements.approve(draft.id, "officer:1")
        await until(lambda: len([m for m in email.sent if m.bulk]) == 1)
    [mail] = [m for m in email.sent if m.bulk]
    assert mail.subject == "Jam layanan baru MPP"
    assert mail.unsubscribe_url.startswith(hub.settings.server.public_url + "/unsubscribe/c")


async def test_outbox_rows_of_a_cancelled_announcement_are_never_claimed(
    make_settings: MakeSettings,
) -> None:
    async with running(make_settings(), Recorder("fake"), dispatch=False) as hub:
        contact = await citizen(hub, "fake", "t1")
        await subscribe(hub, contact, "fake", "t1", "jadwal")
        await hub.dispatcher.drain()
        draft = await hub.announcements.draft(
            text_id="x", topics=["jadwal"], created_by="officer:1"
        )
        await hub.announcements.approve(draft.id, "officer:1")
        await hub.broadcaster.drain()
        await hub.announcements.cancel(draft.id)
        async with hub.db.engine.connect() as conn:
            statuses = (await conn.execute(sa.select(outbox.c.status, outbox.c.lane))).all()
        assert ("cancelled", 1) in [tuple(r) for r in statuses]
        assert await outbox_store.claim_due(hub.db, ["fake"], 10, 60) == []

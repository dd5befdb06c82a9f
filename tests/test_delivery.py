"""What every provider channel relies on: status callbacks, the 24-hour window, segments."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.app import Hub
from hub.channels.base import Capabilities, Channel
from hub.config import Settings
from hub.model import (
    AddressKind,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    Location,
    OutboundMessage,
    SendResult,
    utcnow,
)
from hub.store.tables import identities, messages


class WindowedChannel(Channel):
    """A WhatsApp-like channel that records what the dispatcher hands it."""

    name = "windowed"
    capabilities = Capabilities(
        buttons=False, address_kind=AddressKind.PHONE, session_window_hours=24
    )

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_message_id=f"p{len(self.sent)}", segments=2)


async def _hub(settings: Settings, channel: Channel) -> Hub:
    hub = Hub(settings, extra_channels=[channel], include_configured_channels=False)
    await hub.start(dispatch=False)
    return hub


async def test_status_callbacks_move_forward_only(
    db_url: str, make_settings: Callable[..., Settings]
) -> None:
    channel = WindowedChannel()
    hub = await _hub(make_settings(db_url), channel)
    try:
        await hub.inbound.accept(InboundMessage("windowed", "081234567890", "in-1", text="halo"))
        await hub.inbound.idle()
        await hub.dispatcher.drain()
        assert await hub.inbound.record_status(
            DeliveryUpdate("windowed", "p1", DeliveryStatus.DELIVERED)
        )
        # Out of order and repeated callbacks never move the status back.
        await hub.inbound.record_status(DeliveryUpdate("windowed", "p1", DeliveryStatus.SENT))
        await hub.inbound.record_status(
            DeliveryUpdate("windowed", "p1", DeliveryStatus.FAILED, "30003", "Unreachable")
        )
        await hub.inbound.record_status(
            DeliveryUpdate("windowed", "p2", DeliveryStatus.FAILED, "30003", "Unreachable")
        )
        assert not await hub.inbound.record_status(
            DeliveryUpdate("windowed", "unknown", DeliveryStatus.READ)
        )
        async with hub.db.engine.connect() as conn:
            rows = {
                row.provider_message_id: row
                for row in await conn.execute(
                    sa.select(messages).where(messages.c.direction == "outbound")
                )
            }
        assert rows["p1"].delivery_status == "delivered"
        assert rows["p1"].delivery_error is None
        assert rows["p2"].delivery_status == "failed"
        assert rows["p2"].delivery_error == "30003 Unreachable"
        assert rows["p1"].segments == 2
    finally:
        await hub.close()


async def test_dispatcher_tells_the_channel_when_the_window_has_closed(
    make_settings: Callable[..., Settings],
) -> None:
    channel = WindowedChannel()
    hub = await _hub(make_settings(), channel)
    try:
        await hub.inbound.accept(InboundMessage("windowed", "+6281234567890", "in-1", text="halo"))
        await hub.inbound.idle()
        await hub.dispatcher.drain()
        assert channel.sent and all(m.window_open for m in channel.sent)

        await hub.inbound.accept(InboundMessage("windowed", "+6281234567890", "in-2", text="menu"))
        await hub.inbound.idle()
        async with hub.db.begin() as conn:
            await conn.execute(
                sa.update(identities).values(last_inbound_at=utcnow() - timedelta(hours=25))
            )
        before = len(channel.sent)
        await hub.dispatcher.drain()
        later = channel.sent[before:]
        assert later and not any(m.window_open for m in later)
    finally:
        await hub.close()


async def test_location_and_identity_time_are_kept(make_settings: Callable[..., Settings]) -> None:
    channel = WindowedChannel()
    hub = await _hub(make_settings(), channel)
    try:
        await hub.inbound.accept(
            InboundMessage(
                "windowed",
                "081234567890",
                "loc-1",
                location=Location(-8.5819, 115.1771, "Puspem Badung"),
            )
        )
        await hub.inbound.idle()
        async with hub.db.engine.connect() as conn:
            stored = (
                await conn.execute(
                    sa.select(messages.c.location).where(messages.c.direction == "inbound")
                )
            ).scalar_one()
            seen = (await conn.execute(sa.select(identities.c.last_inbound_at))).scalar_one()
        assert stored == {"latitude": -8.5819, "longitude": 115.1771, "name": "Puspem Badung"}
        assert utcnow() - seen < timedelta(minutes=1)
    finally:
        await hub.close()


async def test_closing_the_hub_closes_its_http_session(
    make_settings: Callable[..., Settings],
) -> None:
    hub = await _hub(make_settings(), WindowedChannel())
    await hub.close()
    await asyncio.sleep(0)
    assert hub.http is not None and hub.http.closed


async def test_a_status_that_overtakes_the_send_is_applied_once_the_id_is_known(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.pipeline.inbound.STATUS_RETRY_DELAYS", (0.05, 0.05, 0.05))
    channel = WindowedChannel()
    hub = await _hub(make_settings(), channel)
    try:
        await hub.inbound.accept(InboundMessage("windowed", "081234567890", "in-1", text="halo"))
        await hub.inbound.idle()
        early = DeliveryUpdate("windowed", "p1", DeliveryStatus.DELIVERED)
        assert not await hub.inbound.record_status(early)  # the send has not happened yet
        await hub.dispatcher.drain()  # now "p1" is stored
        query = sa.select(messages.c.delivery_status).where(messages.c.provider_message_id == "p1")
        async with asyncio.timeout(5):
            while True:
                async with hub.db.engine.connect() as conn:
                    if await conn.scalar(query) == "delivered":
                        break
                await asyncio.sleep(0.02)
    finally:
        await hub.close()


async def test_closing_ends_pending_status_retries_without_cancelling_them(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry waiting for its next try ends at close; one mid-query would finish it."""
    monkeypatch.setattr("hub.pipeline.inbound.STATUS_RETRY_DELAYS", (3600.0,))
    hub = await _hub(make_settings(), WindowedChannel())
    unknown = DeliveryUpdate("windowed", "never-sent", DeliveryStatus.DELIVERED)
    assert not await hub.inbound.record_status(unknown)
    retries = set(hub.inbound._status_retries)
    assert len(retries) == 1
    async with asyncio.timeout(10):  # an hour's wait must not hold the shutdown
        await hub.close()
    assert all(task.done() and not task.cancelled() for task in retries)

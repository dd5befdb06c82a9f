"""The inbound pipeline's guarantees: kept on failure, resumed after a crash, health and metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.config import Settings
from hub.dialogs.engine import DialogEngine, Outcome, Turn
from hub.model import InboundMessage
from hub.store import Database, contacts, conversations, messages, migrate
from hub.store.tables import messages as messages_table
from hub.store.tables import outbox
from tests.chat_client import ChatClient

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]


class ExplodingDialogs(DialogEngine):
    def handle(self, turn: Turn, state: dict[str, Any], locale: str) -> Outcome:
        raise RuntimeError("dialog bug")


async def test_failed_message_is_kept_marked_and_apologised_for(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    hub = client.app[HUB]
    hub.inbound.dialogs = ExplodingDialogs()
    chat = await ChatClient.connect(client)
    await chat.say("halo")
    (apology,) = await chat.replies(1)
    assert "terjadi gangguan" in apology["text"]
    async with hub.db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(messages_table).where(messages_table.c.direction == "inbound")
            )
        ).one()
    assert row.processing == "failed"
    assert row.text == "halo"
    assert "dialog bug" in row.processing_error
    metrics = await (await client.get("/metrics")).text()
    assert "omnihub_pipeline_failures_total 1.0" in metrics
    await chat.close()


async def test_restart_processes_messages_left_pending(
    db_url: str, make_settings: Callable[..., Settings]
) -> None:
    """A crash after the webhook was acknowledged but before the dialog ran loses nothing."""
    settings = make_settings(db_url)
    db = Database.open(db_url)
    await migrate.upgrade(db)
    session = str(uuid.uuid4())
    async with db.begin() as conn:
        contact = await contacts.resolve_contact(db, conn, "webchat", session)
        conv = await conversations.open_for_inbound(
            conn,
            contact,
            "webchat",
            session,
            "id",
            InboundMessage("webchat", session, "x").received_at,
        )
        for n in range(3):
            await messages.insert_inbound(
                db, conn, conv.id, InboundMessage("webchat", session, f"{session}:{n}", text="halo")
            )
    await db.close()

    hub = Hub(settings)
    await hub.start(dispatch=False)
    try:
        await hub.inbound.idle()
        async with hub.db.engine.connect() as conn:
            states = (
                (
                    await conn.execute(
                        sa.select(messages_table.c.processing)
                        .where(messages_table.c.direction == "inbound")
                        .order_by(messages_table.c.id)
                    )
                )
                .scalars()
                .all()
            )
            queued = await conn.scalar(sa.select(sa.func.count()).select_from(outbox))
        assert states == ["handled", "handled", "handled"]
        assert queued == 6
    finally:
        await hub.close()


async def test_numbered_reply_selects_the_offered_choice(
    make_settings: Callable[..., Settings],
) -> None:
    from hub.channels.terminal import CliChannel

    class Captured:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def write(self, text: str) -> int:
            self.lines.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    out = Captured()
    hub = Hub(make_settings(), extra_channels=[CliChannel(out)], include_configured_channels=False)  # type: ignore[arg-type]
    await hub.start(dispatch=False)
    try:
        for n, text in enumerate(["menu", "3"]):
            await hub.inbound.accept(InboundMessage("cli", "+6281234567890", f"m{n}", text=text))
            await hub.inbound.idle()
            await hub.dispatcher.drain()
    finally:
        await hub.close()
    printed = "".join(out.lines)
    assert "3. Pengaduan (CARE)" in printed
    assert "Silakan ceritakan apa yang terjadi" in printed, "3 picked the complaint"


async def test_healthz_and_metrics(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    ok = await client.get("/healthz")
    assert ok.status == 200 and (await ok.json())["checks"] == {"database": True}
    chat = await ChatClient.connect(client)
    await chat.say("halo")
    await chat.replies(2)
    text = await (await client.get("/metrics")).text()
    assert 'omnihub_inbound_messages_total{channel="webchat"} 1.0' in text
    assert 'omnihub_outbound_messages_total{channel="webchat",result="sent"} 2.0' in text
    assert "omnihub_pipeline_seconds_count 1.0" in text
    assert "omnihub_outbox_depth 0.0" in text
    await chat.close()
    hub = client.app[HUB]
    healthy_db = hub.db
    hub.db = Database.open("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        down = await client.get("/healthz")
        assert down.status == 503
        assert (await down.json())["checks"]["database"] is False
    finally:
        await hub.db.close()
        hub.db = healthy_db


async def test_unknown_route_and_no_stack_traces(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    missing = await client.get("/nope")
    assert missing.status == 404
    assert "Traceback" not in await missing.text()


async def test_shutdown_finishes_in_flight_messages(make_settings: Callable[..., Settings]) -> None:
    hub = Hub(make_settings())
    await hub.start(dispatch=False)
    session = str(uuid.uuid4())
    for n in range(5):
        await hub.inbound.accept(InboundMessage("webchat", session, f"{session}:{n}", text="halo"))
    await hub.close()  # no idle() first: close itself must let the work finish
    db = Database.open(make_settings().storage.url)
    try:
        async with db.engine.connect() as conn:
            pending = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(messages_table)
                .where(messages_table.c.processing == "pending")
            )
            queued = await conn.scalar(sa.select(sa.func.count()).select_from(outbox))
    finally:
        await db.close()
    assert pending == 0
    assert queued == 10


async def test_sweep_retries_a_message_an_outage_left_pending(
    make_settings: Callable[..., Settings],
) -> None:
    """Stored but never processed (say the database blinked): handled without a restart."""
    hub = Hub(make_settings(pipeline={"retry_pending_seconds": 0.1}))
    await hub.start()
    try:
        session = str(uuid.uuid4())
        received = InboundMessage("webchat", session, "x").received_at - timedelta(seconds=5)
        async with hub.db.begin() as conn:
            contact = await contacts.resolve_contact(hub.db, conn, "webchat", session)
            conv = await conversations.open_for_inbound(
                conn, contact, "webchat", session, "id", received
            )
            await messages.insert_inbound(
                hub.db,
                conn,
                conv.id,
                InboundMessage(
                    "webchat", session, f"{session}:1", text="halo", received_at=received
                ),
            )
        handled = (
            sa.select(sa.func.count())
            .select_from(messages_table)
            .where(messages_table.c.processing == "handled")
        )
        async with asyncio.timeout(10):
            while True:
                async with hub.db.engine.connect() as conn:
                    if await conn.scalar(handled) == 1:
                        break
                await asyncio.sleep(0.05)
    finally:
        await hub.close()

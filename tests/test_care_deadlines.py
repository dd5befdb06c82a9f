"""CARE deadlines through the running hub: a breach is counted in /metrics, announced
to the consoles once, and the citizen is told of status changes on their channel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.care.access import Actor, ActorRole
from hub.care.service import TicketKind
from hub.config import Settings
from hub.coordination.live import CONSOLE_TOPIC
from tests.chat_client import ChatClient
from tests.clock import Clock

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]
WITA = ZoneInfo("Asia/Makassar")
SUPERVISOR = Actor("officer:1", ActorRole.SUPERVISOR)


def wita(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), WITA)


async def test_breach_counted_and_announced_once(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    clock = Clock(wita(date(2026, 11, 27), 14))  # Friday: due by the end of Wed 2 Dec
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat = await ChatClient.connect(client)
    await chat.say("halo")
    await chat.replies(2)
    [contact_id] = [c for (c,) in await _contacts(hub)]
    ticket = await hub.care.file(
        kind=TicketKind.COMPLAINT,
        contact_id=contact_id,
        channel="webchat",
        description="Loket paspor tutup jam 10.",
        service_id="paspor",
    )
    agency = ticket.agency
    async with hub.coordinator.subscribe(CONSOLE_TOPIC) as news:
        clock.now = wita(date(2026, 12, 3), 9)
        report = await hub.care.check_deadlines()
        assert [t.ticket_id for t in report.breached] == [ticket.ticket_id]
        assert (await hub.care.check_deadlines()).breached == []
        event = json.loads(await asyncio.wait_for(anext(aiter(news)), 5))
    assert event == {
        "type": "ticket",
        "ticket_id": ticket.ticket_id,
        "status": "received",
        "change": "sla_breach",
    }
    metrics = await (await client.get("/metrics")).text()
    assert f'omnihub_care_sla_breaches_total{{agency="{agency}"}} 1.0' in metrics


async def test_citizen_is_told_of_each_status_change_in_their_language(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    clock = Clock(wita(date(2026, 11, 30), 9))
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]
    chat = await ChatClient.connect(client)
    await chat.say("hello, good morning")
    await chat.replies(2)
    [(contact_id,)] = await _contacts(hub)
    [(conversation_id,)] = await _conversations(hub)
    ticket = await hub.care.file(
        kind=TicketKind.COMPLAINT,
        contact_id=contact_id,
        conversation_id=conversation_id,
        channel="webchat",
        description="The passport counter was closed at 10.",
        service_id="paspor",
    )
    await hub.care.change_status(ticket.ticket_id, "verified", SUPERVISOR)
    [verified] = await chat.replies(1)
    assert verified["text"].startswith(f"News of your complaint {ticket.ticket_id}")
    await hub.care.change_status(ticket.ticket_id, "rejected", SUPERVISOR, "Not an MPP service")
    [rejected] = await chat.replies(1)
    assert ticket.ticket_id in rejected["text"]
    assert "Reason: Not an MPP service" in rejected["text"]


async def _contacts(hub: Any) -> list[Any]:
    import sqlalchemy as sa

    from hub.store.tables import contacts

    async with hub.db.engine.connect() as conn:
        return list((await conn.execute(sa.select(contacts.c.id))).all())


async def _conversations(hub: Any) -> list[Any]:
    import sqlalchemy as sa

    from hub.store.tables import conversations

    async with hub.db.engine.connect() as conn:
        return list((await conn.execute(sa.select(conversations.c.id))).all())

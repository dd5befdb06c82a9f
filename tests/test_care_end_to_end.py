"""Issue 6's "done when": a complaint goes from a citizen's first message to a rated,
closed ticket, with officers working it in the console. Real app, web chat citizen,
console forms posted with their CSRF token, the citizen told at each step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.care.access import SYSTEM
from hub.config import Settings
from hub.store.tables import audit_events
from tests.chat_client import ChatClient
from tests.test_console_auth import Console, open_console

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]


async def move(console: Console, ticket_id: str, status: str, note: str = "") -> None:
    token = await console.csrf_token()
    response = await console.client.post(
        f"/console/tickets/{ticket_id}/status",
        data={"status": status, "note": note, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303, (status, response.status, (await response.text())[:300])


async def test_first_message_to_rated_closed_ticket(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await open_console(aiohttp_client, make_settings(scheduler={"enabled": False}))
    console.clock.now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 WITA
    hub = console.hub
    chat = await ChatClient.connect(console.client)

    # The citizen tells the story in one go and answers the flow's questions.
    await chat.say("mau komplain, petugas loket paspor tidak ada selama 1 jam")
    await chat.replies(1)
    steps = [
        ("say", "sudah"),
        ("say", "tadi pagi di loket 3"),
        ("choose", '/inform{"option": "skip"}'),
        ("choose", '/inform{"option": "normal"}'),
    ]
    for kind, value in steps:
        if kind == "say":
            await chat.say(value)
        else:
            await chat.choose(value)
        [reply] = await chat.replies(1)
        if reply["text"].startswith("Mohon periksa pengaduan Anda"):
            break
    assert reply["text"].startswith("Mohon periksa pengaduan Anda"), reply["text"]
    await chat.choose("/affirm")
    [filed] = await chat.replies(1)
    [ticket] = await hub.care.search(SYSTEM)
    assert ticket.ticket_id in filed["text"] and ticket.status == "received"
    assert ticket.service_id == "paspor"

    # A supervisor works it in the console; the citizen hears of every step.
    await console.add_officer("ketut", "supervisor", name="Ketut Supervisor")
    assert (await console.login("ketut"))[0] == 303
    assert ticket.ticket_id in await (await console.client.get("/console/tickets")).text()
    await move(console, ticket.ticket_id, "verified", "Sudah dicek dengan petugas loket.")
    await move(console, ticket.ticket_id, "forwarded")
    await move(console, ticket.ticket_id, "in_progress")
    await move(console, ticket.ticket_id, "resolved", "Petugas cadangan kini berjaga di loket 3.")
    notices = await chat.replies(4)
    assert all(ticket.ticket_id in n["text"] for n in notices)
    resolved = notices[-1]
    assert "Petugas cadangan kini berjaga di loket 3." in resolved["text"]
    five = next(c["payload"] for c in resolved["choices"] if c["payload"].endswith('"5"}'))

    # The citizen rates it: a good rating closes the ticket.
    await chat.choose(five)
    [thanks] = await chat.replies(1)
    assert thanks["text"]
    detail = await hub.care.get(ticket.ticket_id)
    assert detail is not None
    assert (detail.ticket.status, detail.ticket.rating) == ("closed", 5)
    assert [e.to_status for e in detail.history] == [
        "received",
        "verified",
        "forwarded",
        "in_progress",
        "resolved",
        "closed",
    ]
    async with hub.db.engine.connect() as conn:
        actions = list(
            await conn.scalars(
                sa.select(audit_events.c.action).where(audit_events.c.action == "ticket_status")
            )
        )
    assert len(actions) == 4

"""No applicant's NIK in clear anywhere the hub keeps or logs text: a whole booking on the
web chat (a mistyped NIK, the right one, remembered with consent, checked by NIK), then
every stored text, the booking and contact rows and every log line are searched."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.config import Settings
from hub.store.tables import bookings, contacts
from tests.chat_client import ChatClient
from tests.chat_client import Citizen as Chat
from tests.clock import Clock
from tests.test_booking_dialog import NOW
from tests.test_nik import _digits, _everything_stored, log_stream

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

NIK = "5103011204850001"
MISTYPED = "510301120485001"  # one digit short: as personal as the NIK itself

__all__ = ["log_stream"]  # the fixture, shared with tests/test_nik.py


async def test_a_booking_keeps_the_applicants_nik_only_sealed(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    log_stream: io.StringIO,
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=Clock(NOW)))
    hub = client.app[HUB]
    chat = Chat(await ChatClient.connect(client))
    [wrong] = await chat.say(f"antri paspor besok pagi atas nama Made Sudiarta NIK {MISTYPED}")
    assert "kurang 1 digit" in wrong["text"]
    [confirm] = await chat.say(f"NIK {NIK[:4]} {NIK[4:8]} {NIK[8:12]} {NIK[12:]}")
    assert "Made Sudiarta, NIK 5103••••••••0001" in confirm["text"]
    [done] = await chat.say("ya, simpan")
    assert "disimpan untuk antrean berikutnya" in done["text"]
    [listed] = await chat.say(f"cek antrean nik {NIK}")
    assert "a.n. Made Sudiarta" in listed["text"]
    await hub.inbound.idle()

    stored = await _everything_stored(hub)
    async with hub.db.engine.connect() as conn:
        booking = (await conn.execute(sa.select(bookings))).one()
        contact = (await conn.execute(sa.select(contacts))).one()
    stored["bookings"] = [json.dumps(dict(booking._mapping), default=str)]
    stored["contacts"] = [json.dumps(dict(contact._mapping), default=str)]
    stored["logs"] = [log_stream.getvalue()]
    for where, texts in stored.items():
        for text in texts:
            assert NIK not in _digits(text), f"a NIK in clear in {where}: {text[:300]}"
            assert MISTYPED not in _digits(text), f"a mistyped NIK in {where}: {text[:300]}"
    assert hub.vault.decrypt(booking.applicant_nik) == NIK
    assert hub.vault.decrypt(contact.applicant_nik) == NIK
    assert "NIK 5103•••••••••••" in json.dumps(stored["messages.text"], ensure_ascii=False)
    await chat.chat.close()

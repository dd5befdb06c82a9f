"""SMS and WhatsApp through Twilio: recorded webhooks posted through the real app,
replies sent by the real twilio SDK to a fake Twilio REST API."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from twilio.request_validator import RequestValidator

from hub.app import HUB, create_app
from hub.channels.base import Channel, ChannelError
from hub.channels.twilio import EMPTY_TWIML, TwilioChannel, twilio_channels
from hub.config import Settings, TwilioConfig
from hub.model import Attachment, OutboundMessage, utcnow
from hub.store import messages as message_store
from hub.store import outbox as outbox_store
from hub.store.tables import contacts, conversations, identities, messages, outbox
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
PUBLIC_URL = "https://hub.example.org"
WEBHOOK = "/webhooks/twilio"
STATUS = "/webhooks/twilio/status"
SMS_FROM = "+15017122661"
WHATSAPP_FROM = "+14155238886"
CITIZEN = "+6281234567890"
CONTENT_SID = "HX0123456789abcdef0123456789abcdef"


def fixture(name: str, **changes: str) -> dict[str, str]:
    """A recorded webhook form; ``MessageSid=`` also renames SmsSid/SmsMessageSid."""
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    params = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    if "MessageSid" in changes:
        for alias in ("SmsSid", "SmsMessageSid"):
            if alias in params:
                params[alias] = changes["MessageSid"]
    params.update(changes)
    return params


def sign(path: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(PUBLIC_URL + path, params))


async def post(
    client: TestClient[Any, Any],
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
) -> ClientResponse:
    """Post a form the way Twilio does, signed unless ``signature`` says otherwise."""
    signature = sign(path, params) if signature is None else signature
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return await client.post(path, data=params, headers=headers)


def settings_for(
    make_settings: Callable[..., Settings],
    fake: FakeTwilio,
    *,
    sms: bool = True,
    whatsapp: bool = True,
    templates: dict[str, str] | None = None,
) -> Settings:
    return make_settings(
        server={"public_url": PUBLIC_URL},
        channels={
            "webchat": {"enabled": False},
            "twilio": {
                "enabled": True,
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "sms_from": SMS_FROM if sms else "",
                "whatsapp_from": WHATSAPP_FROM if whatsapp else "",
                "api_base_url": fake.base_url,
                "templates": templates or {},
            },
        },
    )


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def fetch(client: TestClient[Any, Any], query: Any) -> list[Any]:
    async with client.app[HUB].db.engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def count(client: TestClient[Any, Any], table: sa.Table, *where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(*where)
    async with client.app[HUB].db.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0
) -> None:
    """Poll ``check`` until it holds, failing after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def outbound(client: TestClient[Any, Any]) -> list[Any]:
    return await fetch(
        client,
        sa.select(messages).where(messages.c.direction == "outbound").order_by(messages.c.id),
    )


async def queue_outbound(
    client: TestClient[Any, Any], channel: str, text: str, **fields: Any
) -> int:
    """An outbound message queued the way an officer's later reply is: row, then outbox."""
    hub = client.app[HUB]
    async with hub.db.begin() as conn:
        conversation_id = await conn.scalar(
            sa.select(conversations.c.id).where(conversations.c.channel == channel)
        )
        assert conversation_id is not None
        message_id = await message_store.insert_outbound(
            conn,
            conversation_id=conversation_id,
            channel=channel,
            author="officer:1",
            text=text,
            attachments=[],
            reply_to_id=None,
        )
        payload = OutboundMessage(channel=channel, recipient=CITIZEN, text=text, **fields).to_dict()
        payload["idempotency_key"] = f"msg-{message_id}"
        await outbox_store.enqueue(
            conn,
            message_id=message_id,
            conversation_id=conversation_id,
            channel=channel,
            payload=payload,
        )
    hub.dispatcher.notify()
    return message_id


# --- SMS conversations -----------------------------------------------------------------


async def test_sms_halo_gets_numbered_menu_and_a_digit_chooses(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    response = await post(client, WEBHOOK, fixture("sms_text"))
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert await response.text() == EMPTY_TWIML

    greet, menu = await fake_twilio.wait_for_messages(2)
    for sent in (greet, menu):
        assert sent.method == "POST"
        assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        assert sent.field("To") == CITIZEN
        assert sent.field("From") == SMS_FROM
        assert sent.field("StatusCallback") == PUBLIC_URL + STATUS
        assert "ContentSid" not in sent.form and "MediaUrl" not in sent.form
    assert "selamat datang" in greet.field("Body")
    assert "Balas dengan angka" in menu.field("Body")
    for line in ("1. Info layanan", "2. Ambil antrean", "3. Pengaduan (CARE)", "4. Bicara"):
        assert line in menu.field("Body")

    response = await post(
        client, WEBHOOK, fixture("sms_text", MessageSid="SM" + "b" * 32, Body="2")
    )
    assert response.status == 200
    # "2" chose "Ambil antrean": the booking flow asks which service, numbered.
    (answer,) = (await fake_twilio.wait_for_messages(3))[2:]
    assert answer.field("Body").startswith("Antrean untuk layanan apa?")
    assert "1. KTP-el baru" in answer.field("Body")

    await eventually(lambda: _all_sent(client, 3), "provider ids stored")
    rows = await outbound(client)
    assert [r.provider_message_id for r in rows] == [f"SM{n:032x}" for n in range(1, 4)]
    assert all(r.channel == "sms" for r in rows)
    assert [r.segments for r in rows[:2]] == [1, 1] and rows[2].segments <= 3
    inbound = await fetch(
        client, sa.select(messages.c.choice_payload).where(messages.c.direction == "inbound")
    )
    assert [r.choice_payload for r in inbound] == [None, None]
    assert await count(client, messages, messages.c.intent == "book_queue") == 1


async def test_english_sms_gets_english_menu(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    await post(client, WEBHOOK, fixture("sms_text", Body="hello, good morning"))
    greet, menu = await fake_twilio.wait_for_messages(2)
    assert greet.field("Body").startswith("Hello, welcome")
    assert "1. Service info" in menu.field("Body") and "Reply with a number" in menu.field("Body")


async def test_same_webhook_three_times_is_stored_and_answered_once(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    params = fixture("sms_text")
    first = await post(client, WEBHOOK, params)
    again = await asyncio.gather(post(client, WEBHOOK, params), post(client, WEBHOOK, params))
    assert [r.status for r in (first, *again)] == [200, 200, 200]
    assert all([await r.text() == EMPTY_TWIML for r in (first, *again)])
    await fake_twilio.wait_for_messages(2)
    hub = client.app[HUB]
    await hub.inbound.idle()
    await eventually(lambda: _zero(client), "every outbox row sent")
    assert await count(client, messages, messages.c.direction == "inbound") == 1
    assert await count(client, outbox) == 2
    assert len(fake_twilio.requests) == 2
    bodies = [r.field("Body") for r in fake_twilio.requests]
    assert len(set(bodies)) == 2


async def _all_sent(client: TestClient[Any, Any], expected: int) -> bool:
    rows = await outbound(client)
    return len(rows) == expected and all(r.provider_message_id for r in rows)


async def _zero(client: TestClient[Any, Any]) -> bool:
    return await count(client, outbox, outbox.c.status != "sent") == 0


async def test_long_sms_is_folded_to_gsm7_and_its_segments_recorded(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    await post(client, WEBHOOK, fixture("sms_text"))
    await fake_twilio.wait_for_messages(2)
    # 24 characters, three of them outside GSM-7, then 200 "a": as UCS-2 that would be
    # 224 units = 4 segments (67 + 67 + 67 + 23); folded it is 226 septets = 2 (153 + 73).
    text = "Loket buka Senin–Jumat… " + "a" * 200
    message_id = await queue_outbound(client, "sms", text)
    sent = (await fake_twilio.wait_for_messages(3))[2]
    assert sent.field("Body") == "Loket buka Senin-Jumat... " + "a" * 200

    async def recorded() -> bool:
        rows = await fetch(
            client, sa.select(messages.c.segments).where(messages.c.id == message_id)
        )
        return rows[0].segments is not None

    await eventually(recorded, "segments stored")
    [row] = await fetch(client, sa.select(messages).where(messages.c.id == message_id))
    assert row.segments == 2
    assert row.provider_message_id == f"SM{3:032x}"


# --- WhatsApp ---------------------------------------------------------------------------


async def test_whatsapp_text_button_media_and_location(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    for name in ("whatsapp_text", "whatsapp_button", "whatsapp_media", "whatsapp_location"):
        response = await post(client, WEBHOOK, fixture(name))
        assert response.status == 200, name
        assert await response.text() == EMPTY_TWIML

    # halo: greeting + menu; the button: which service to book; the photo's caption "Foto
    # KTP saya" names the KTP: which date; the location fits nothing while the booking is
    # under way: the date question again, the flow kept (issue #13).
    sent = await fake_twilio.wait_for_messages(5)
    for reply in sent:
        assert reply.field("To") == "whatsapp:" + CITIZEN
        assert reply.field("From") == "whatsapp:" + WHATSAPP_FROM
        assert reply.field("StatusCallback") == PUBLIC_URL + STATUS
        assert "ContentSid" not in reply.form
    assert "selamat datang" in sent[0].field("Body")
    assert "1. Info layanan" in sent[1].field("Body"), "numbered menu, no buttons"
    # The button reply chose "/book_queue": the booking flow asks which service.
    assert sent[2].field("Body").startswith("Ambil antrean untuk layanan apa?")
    assert sent[3].field("Body").startswith("Antrean KTP-el baru untuk tanggal berapa?")
    assert "belum jelas" in sent[4].field("Body")
    assert "Antrean KTP-el baru untuk tanggal berapa?" in sent[4].field("Body")

    rows = await fetch(
        client,
        sa.select(messages).where(messages.c.direction == "inbound").order_by(messages.c.id),
    )
    text, button, media, location = rows
    assert {r.channel for r in rows} == {"whatsapp"}
    assert text.text == "halo" and text.provider_message_id == "SM2a4b6c8d0e1f2a3b4c5d6e7f8a9b0c1d"
    assert button.choice_payload == "/book_queue" and button.text == "Ambil antrean"
    assert button.intent == "book_queue"
    assert media.text == "Foto KTP saya"
    assert media.attachments == [
        {
            "content_type": "image/jpeg",
            "url": "https://api.twilio.com/2010-04-01/Accounts/"
            f"{ACCOUNT_SID}/Messages/MM4c6d8e0f2a3b4c5d6e7f8a9b0c1d2e3f/Media/"
            "ME5d7e9f1a3b4c5d6e7f8a9b0c1d2e3f4a",
            "filename": "",
            "size": None,
            "caption": "",
        }
    ]
    assert location.location == {
        "latitude": -8.5827,
        "longitude": 115.177,
        "name": "Puspem Badung, Jl. Raya Sempidi, Mengwi",
    }
    # Unknown and unmapped fields are kept read-only in raw, phone numbers masked (hub.pii);
    # mapped ones are not repeated.
    assert text.raw["WaId"] == "•••• 7890" and text.raw["MessageType"] == "text"
    assert text.raw["To"] == "whatsapp:•••• " + WHATSAPP_FROM[-4:]
    assert "Body" not in text.raw and "MediaUrl0" not in media.raw
    assert button.raw["OriginalRepliedMessageSender"] == "whatsapp:•••• " + WHATSAPP_FROM[-4:]
    [contact] = await fetch(client, sa.select(contacts))
    assert contact.display_name == "Made Wirawan"


async def test_same_number_on_sms_and_whatsapp_is_one_contact(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    assert (await post(client, WEBHOOK, fixture("sms_text"))).status == 200
    await fake_twilio.wait_for_messages(2)
    assert (await post(client, WEBHOOK, fixture("whatsapp_text"))).status == 200
    sent = await fake_twilio.wait_for_messages(4)
    assert [s.field("To") for s in sent] == [CITIZEN] * 2 + ["whatsapp:" + CITIZEN] * 2
    assert await count(client, contacts) == 1
    rows = await fetch(client, sa.select(identities.c.channel, identities.c.address))
    assert sorted((r.channel, r.address) for r in rows) == [
        ("sms", CITIZEN),
        ("whatsapp", CITIZEN),
    ]


async def test_whatsapp_ignored_when_only_sms_is_enabled(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(make_settings, fake_twilio, whatsapp=False)
    client = await aiohttp_client(create_app(settings))
    assert set(client.app[HUB].channels) == {"sms"}
    with caplog.at_level(logging.WARNING, logger="hub.channels.twilio"):
        response = await post(client, WEBHOOK, fixture("whatsapp_text"))
    assert response.status == 200
    assert await response.text() == EMPTY_TWIML
    assert any("not enabled" in r.getMessage() for r in caplog.records)
    assert await count(client, messages) == 0
    # SMS still works on the same webhook.
    assert (await post(client, WEBHOOK, fixture("sms_text"))).status == 200
    await fake_twilio.wait_for_messages(2)


async def test_whatsapp_only_account_mounts_the_webhook_too(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    settings = settings_for(make_settings, fake_twilio, sms=False)
    client = await aiohttp_client(create_app(settings))
    assert set(client.app[HUB].channels) == {"whatsapp"}
    assert (await post(client, WEBHOOK, fixture("sms_text"))).status == 200
    assert await count(client, messages) == 0
    assert (await post(client, WEBHOOK, fixture("whatsapp_text"))).status == 200
    greet, _ = await fake_twilio.wait_for_messages(2)
    assert greet.field("From") == "whatsapp:" + WHATSAPP_FROM


async def test_whatsapp_outside_the_window_sends_a_template_or_fails_clearly(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    settings = settings_for(make_settings, fake_twilio, templates={"care_answered": CONTENT_SID})
    client = await aiohttp_client(create_app(settings))
    await post(client, WEBHOOK, fixture("whatsapp_text"))
    await fake_twilio.wait_for_messages(2)
    hub = client.app[HUB]
    async with hub.db.begin() as conn:
        await conn.execute(
            sa.update(identities)
            .where(identities.c.channel == "whatsapp")
            .values(last_inbound_at=utcnow() - timedelta(hours=25))
        )

    flattened = await queue_outbound(
        client, "whatsapp", "Tiket CARE Anda\nsudah   dijawab.", template_key="care_answered"
    )
    with_variables = await queue_outbound(
        client,
        "whatsapp",
        "Tiket BDG-0001 selesai.",
        template_key="care_answered",
        template_variables=("BDG-0001", "selesai"),
    )
    unconfigured = await queue_outbound(
        client, "whatsapp", "Antrean Anda besok.", template_key="booking_reminder"
    )

    first, second = (await fake_twilio.wait_for_messages(4))[2:]
    for sent in (first, second):
        assert sent.field("ContentSid") == CONTENT_SID
        assert "Body" not in sent.form
        assert sent.field("To") == "whatsapp:" + CITIZEN
        assert sent.field("StatusCallback") == PUBLIC_URL + STATUS
    assert json.loads(first.field("ContentVariables")) == {"1": "Tiket CARE Anda sudah dijawab."}
    assert json.loads(second.field("ContentVariables")) == {"1": "BDG-0001", "2": "selesai"}

    async def failed() -> bool:
        return await count(client, outbox, outbox.c.status == "failed") == 1

    await eventually(failed, "the unconfigured template row to fail")
    [row] = await fetch(client, sa.select(messages).where(messages.c.id == unconfigured))
    assert row.delivery_status == "failed"
    assert row.delivery_error == (
        "outside the 24-hour window and no template configured for 'booking_reminder'"
    )
    [box] = await fetch(client, sa.select(outbox).where(outbox.c.message_id == unconfigured))
    assert box.attempts == 1, "a permanent failure is not retried"
    sent_ids = await fetch(
        client,
        sa.select(messages.c.id).where(
            messages.c.id.in_([flattened, with_variables]),
            messages.c.provider_message_id.is_not(None),
        ),
    )
    assert len(sent_ids) == 2
    assert len(fake_twilio.requests) == 4


# --- Signatures and malformed requests ----------------------------------------------------


async def test_signature_is_required_and_checked(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    params = fixture("sms_text")
    tampered = {**params, "Body": "halo, transfer dana ke rekening ini"}
    refused = [
        await post(client, WEBHOOK, tampered, signature=sign(WEBHOOK, params)),
        await post(client, WEBHOOK, params, signature=sign(WEBHOOK, params, "wrong-token")),
        await post(client, WEBHOOK, params, signature=""),
        await post(client, WEBHOOK, params, signature=sign(STATUS, params)),  # other URL
        await post(client, WEBHOOK + "?x=1", params, signature=sign(WEBHOOK, params)),
    ]
    assert [r.status for r in refused] == [403] * 5
    assert await count(client, messages) == 0
    assert await count(client, contacts) == 0

    status_params = fixture("status_delivered")
    bad_status = await post(
        client, STATUS, status_params, signature=sign(STATUS, status_params, "wrong-token")
    )
    assert bad_status.status == 403

    # The query string is part of what Twilio signs.
    accepted = await post(
        client, WEBHOOK + "?x=1", params, signature=sign(WEBHOOK + "?x=1", params)
    )
    assert accepted.status == 200
    assert await count(client, messages) == 1
    await fake_twilio.wait_for_messages(2)


async def test_malformed_webhooks_get_400_without_processing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    base = fixture("sms_text")
    without_sid = {k: v for k, v in base.items() if k != "MessageSid"}
    without_from = {k: v for k, v in base.items() if k != "From"}
    cases = {
        "MessageSid": without_sid,
        "From": without_from,
        "NumMedia": {**base, "NumMedia": "dua"},
        "not a valid phone number": {**base, "From": "+999"},
        "Latitude": fixture("whatsapp_location", Latitude="utara"),
    }
    for expected, params in cases.items():
        response = await post(client, WEBHOOK, params)
        assert response.status == 400, expected
        body = await response.json()
        assert expected in body["error"], body
        assert "Traceback" not in json.dumps(body)
    status = await post(client, STATUS, {"MessageSid": "SM1", "AccountSid": ACCOUNT_SID})
    assert status.status == 400
    assert await count(client, messages) == 0
    assert fake_twilio.requests == []


# --- Delivery status callbacks ------------------------------------------------------------


async def test_status_callbacks_update_delivery_and_never_go_back(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    await post(client, WEBHOOK, fixture("sms_text"))
    await fake_twilio.wait_for_messages(2)

    async def both_sent() -> bool:
        return all(r.provider_message_id for r in await outbound(client))

    await eventually(both_sent, "provider ids stored")
    greet_row, menu_row = await outbound(client)
    assert greet_row.delivery_status == "queued", "Twilio answered 'queued'"

    response = await post(client, STATUS, fixture("status_delivered"))
    assert response.status == 204
    stale = fixture("status_delivered", MessageStatus="sent", SmsStatus="sent")
    assert (await post(client, STATUS, stale)).status == 204
    assert (await post(client, STATUS, fixture("status_undelivered"))).status == 204
    unknown = fixture("status_delivered", MessageSid="SM" + "f" * 32)
    assert (await post(client, STATUS, unknown)).status == 204
    untracked = fixture("status_delivered", MessageStatus="receiving")
    assert (await post(client, STATUS, untracked)).status == 204

    greet_row, menu_row = await outbound(client)
    assert greet_row.provider_message_id == f"SM{1:032x}"
    assert greet_row.delivery_status == "delivered"
    assert greet_row.delivery_error is None
    assert menu_row.delivery_status == "failed"
    assert "30003" in menu_row.delivery_error
    assert "unreachable" in menu_row.delivery_error


async def test_whatsapp_read_status(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    await post(client, WEBHOOK, fixture("whatsapp_text"))
    await fake_twilio.wait_for_messages(2)

    async def stored() -> bool:
        return all(r.provider_message_id for r in await outbound(client))

    await eventually(stored, "provider ids stored")
    # The same MessageSid reported for the SMS channel must not touch the WhatsApp row.
    assert (await post(client, STATUS, fixture("status_delivered"))).status == 204
    [greet, _] = await outbound(client)
    assert greet.delivery_status == "queued"
    assert (await post(client, STATUS, fixture("status_whatsapp_read"))).status == 204
    [greet, menu] = await outbound(client)
    assert greet.delivery_status == "read"
    assert menu.delivery_status == "queued"


# --- Outbound errors through the dispatcher -----------------------------------------------


async def test_twilio_500_is_retried_and_delivered_once(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    fake_twilio.fail_next(1, status=500)
    await post(client, WEBHOOK, fixture("sms_text"))
    greet, _menu = await fake_twilio.wait_for_messages(2)
    assert "selamat datang" in greet.field("Body")
    assert [r.status for r in fake_twilio.requests] == [500, 201, 201]
    assert fake_twilio.requests[0].field("Body") == greet.field("Body")
    accepted_bodies = [r.field("Body") for r in fake_twilio.messages]
    assert accepted_bodies.count(greet.field("Body")) == 1, "delivered once"
    await eventually(lambda: _zero(client), "every outbox row sent")
    rows = await fetch(client, sa.select(outbox).order_by(outbox.c.id))
    assert [r.attempts for r in rows] == [2, 1]
    assert [r.delivery_status for r in await outbound(client)] == ["queued", "queued"]


async def test_twilio_21211_marks_the_message_failed(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    client = await aiohttp_client(create_app(settings_for(make_settings, fake_twilio)))
    fake_twilio.fail_next(
        1,
        status=400,
        code=21211,
        message="The 'To' number +6281234567890 is not a valid phone number.",
    )
    await post(client, WEBHOOK, fixture("sms_text"))
    [menu] = await fake_twilio.wait_for_messages(1)
    assert "1. Info layanan" in menu.field("Body")

    async def settled() -> bool:
        return await count(client, outbox, outbox.c.status.in_(["pending", "sending"])) == 0

    await eventually(settled, "outbox settled")
    rows = await fetch(client, sa.select(outbox).order_by(outbox.c.id))
    assert [(r.status, r.attempts) for r in rows] == [("failed", 1), ("sent", 1)]
    greet_row, menu_row = await outbound(client)
    assert greet_row.delivery_status == "failed"
    assert "21211" in greet_row.delivery_error
    assert menu_row.delivery_status == "queued"
    assert [r.status for r in fake_twilio.requests] == [400, 201]


# --- The channel on its own -------------------------------------------------------------


def _config(fake_url: str, **changes: Any) -> TwilioConfig:
    values: dict[str, Any] = {
        "enabled": True,
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "sms_from": SMS_FROM,
        "whatsapp_from": WHATSAPP_FROM,
        "api_base_url": fake_url,
    }
    values.update(changes)
    return TwilioConfig(**values)


@pytest.fixture
async def channels(fake_twilio: FakeTwilio) -> AsyncIterator[dict[str, Channel]]:
    found = {c.name: c for c in twilio_channels(_config(fake_twilio.base_url), PUBLIC_URL)}
    async with ClientSession() as http:
        for channel in found.values():
            await channel.start(http)
        yield found
        for channel in found.values():
            await channel.stop()


def sms_to(text: str, **fields: Any) -> OutboundMessage:
    return OutboundMessage(channel="sms", recipient=CITIZEN, text=text, **fields)


async def test_capabilities_and_shared_client(channels: dict[str, Channel]) -> None:
    sms, whatsapp = channels["sms"], channels["whatsapp"]
    assert sms.capabilities.buttons is False and whatsapp.capabilities.buttons is False
    assert sms.capabilities.max_text_length == 459
    assert sms.capabilities.session_window_hours is None
    assert whatsapp.capabilities.session_window_hours == 24
    assert (
        sms.capabilities.address_kind.value == whatsapp.capabilities.address_kind.value == "phone"
    )
    assert isinstance(sms, TwilioChannel) and isinstance(whatsapp, TwilioChannel)
    assert sms.account is whatsapp.account
    routes = sms.routes(_never_message, _never_status) + whatsapp.routes(
        _never_message, _never_status
    )
    assert sorted((r.method, r.path) for r in routes) == [("POST", WEBHOOK), ("POST", STATUS)]


async def _never_message(message: Any) -> Any:
    raise AssertionError("not called")


async def _never_status(update: Any) -> bool:
    raise AssertionError("not called")


async def test_sms_send_counts_segments_and_keeps_emoji(
    channels: dict[str, Channel], fake_twilio: FakeTwilio
) -> None:
    result = await channels["sms"].send(sms_to("a" * 69 + "\U0001f600"))
    assert result.segments == 2  # 69 + 2 = 71 UCS-2 units
    assert result.provider_message_id == f"SM{1:032x}"
    curly = await channels["sms"].send(sms_to("“Terima kasih” – MPP Badung"))
    assert curly.segments == 1
    [emoji, quoted] = fake_twilio.messages
    assert emoji.field("Body") == "a" * 69 + "\U0001f600"
    assert quoted.field("Body") == '"Terima kasih" - MPP Badung'


async def test_attachments_are_links_on_sms_and_media_on_whatsapp(
    channels: dict[str, Channel], fake_twilio: FakeTwilio
) -> None:
    image = Attachment(content_type="image/png", url="https://hub.example.org/files/denah.png")
    await channels["sms"].send(sms_to("Denah MPP:", attachments=(image,)))
    whatsapp = OutboundMessage(
        channel="whatsapp", recipient=CITIZEN, text="Denah MPP:", attachments=(image,)
    )
    await channels["whatsapp"].send(whatsapp)
    sms_sent, whatsapp_sent = fake_twilio.messages
    assert sms_sent.field("Body") == "Denah MPP:\nhttps://hub.example.org/files/denah.png"
    assert "MediaUrl" not in sms_sent.form
    assert whatsapp_sent.form["MediaUrl"] == [image.url]
    assert whatsapp_sent.field("Body") == "Denah MPP:"


@pytest.mark.parametrize(
    ("status", "code", "headers", "permanent", "retry_after"),
    [
        (429, 20429, {"Retry-After": "7"}, False, 7.0),
        (503, 20503, {}, False, None),
        (500, 20500, {"Retry-After": "0"}, False, 0.0),
        (400, 21211, {}, True, None),
        (400, 21610, {}, True, None),
        (400, 63016, {}, True, None),
        (404, 20404, {}, True, None),
    ],
)
async def test_provider_errors_are_transient_or_permanent(
    channels: dict[str, Channel],
    fake_twilio: FakeTwilio,
    status: int,
    code: int,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
) -> None:
    fake_twilio.fail_next(1, status=status, code=code, message="nope", headers=headers)
    with pytest.raises(ChannelError) as raised:
        await channels["whatsapp"].send(
            OutboundMessage(channel="whatsapp", recipient=CITIZEN, text="halo")
        )
    assert raised.value.permanent is permanent
    assert raised.value.retry_after == retry_after
    assert str(code) in raised.value.reason and str(status) in raised.value.reason
    assert len(fake_twilio.requests) == 1, "the SDK must not retry on its own"


async def test_wrong_credentials_are_permanent(fake_twilio: FakeTwilio) -> None:
    [sms] = twilio_channels(
        _config(fake_twilio.base_url, auth_token="not-the-token", whatsapp_from=""), PUBLIC_URL
    )
    async with ClientSession() as http:
        await sms.start(http)
        try:
            with pytest.raises(ChannelError) as raised:
                await sms.send(sms_to("halo"))
        finally:
            await sms.stop()
    assert raised.value.permanent and "20003" in raised.value.reason


async def test_network_errors_and_timeouts_are_transient(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    [sms] = twilio_channels(
        _config(f"http://127.0.0.1:{closed_port}", whatsapp_from=""), PUBLIC_URL
    )
    async with ClientSession() as http:
        await sms.start(http)
        try:
            with pytest.raises(ChannelError) as raised:
                await sms.send(sms_to("halo"))
        finally:
            await sms.stop()
    assert not raised.value.permanent and "unreachable" in raised.value.reason

    monkeypatch.setattr("hub.channels.twilio.REQUEST_TIMEOUT_SECONDS", 0.2)
    fake_twilio.delay = 2.0
    [slow] = twilio_channels(_config(fake_twilio.base_url, whatsapp_from=""), PUBLIC_URL)
    async with ClientSession() as http:
        await slow.start(http)
        try:
            with pytest.raises(ChannelError) as raised:
                await slow.send(sms_to("halo"))
        finally:
            await slow.stop()
    assert not raised.value.permanent and "Timeout" in raised.value.reason


async def test_send_before_start_is_transient_and_stop_closes_the_client(
    fake_twilio: FakeTwilio,
) -> None:
    sms, whatsapp = twilio_channels(_config(fake_twilio.base_url), PUBLIC_URL)
    with pytest.raises(ChannelError) as raised:
        await sms.send(sms_to("halo"))
    assert not raised.value.permanent
    assert isinstance(sms, TwilioChannel)
    async with ClientSession() as http:
        await sms.start(http)
        await whatsapp.start(http)
    session = sms.account.client.http_client.session
    await sms.stop()
    assert not session.closed, "WhatsApp still uses the shared client"
    await whatsapp.send(OutboundMessage(channel="whatsapp", recipient=CITIZEN, text="halo"))
    await whatsapp.stop()
    assert session.closed and sms.account.client is None


async def test_messaging_service_sid_as_sms_sender(fake_twilio: FakeTwilio) -> None:
    service = "MG" + "0123456789abcdef" * 2
    [sms] = twilio_channels(
        _config(fake_twilio.base_url, sms_from=service, whatsapp_from=""), PUBLIC_URL
    )
    async with ClientSession() as http:
        await sms.start(http)
        try:
            await sms.send(sms_to("halo"))
        finally:
            await sms.stop()
    [sent] = fake_twilio.messages
    assert sent.field("MessagingServiceSid") == service and "From" not in sent.form

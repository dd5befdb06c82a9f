"""WhatsApp Cloud API through the real app: Meta's webhook payloads in, a fake Graph API out."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, Hub, create_app
from hub.channels.base import ChannelError
from hub.channels.whatsapp_cloud import WhatsAppCloudChannel, parse_webhook
from hub.config import Settings
from hub.model import Attachment, Choice, InboundMessage, OutboundMessage, utcnow
from hub.store.tables import contacts, identities, messages, outbox
from tests.fakes.graph import FakeGraph

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp_cloud"
ACCESS_TOKEN = "EAAGtest-permanent-system-user-token"
APP_SECRET = "6f1d0c3b9a8e7d6c5b4a39281706f5e4"
VERIFY_TOKEN = "mpp-badung-verify-7c1e"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "6281234567890"
E164 = "+6281234567890"
MENU_IDS = ["/ask_service_info", "/book_queue", "/file_complaint", "/talk_to_human", "/subscribe"]


# ------------------------------------------------------------------ helpers


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(ACCESS_TOKEN, PHONE_NUMBER_ID).start()
    yield fake
    await fake.close()


def wa_settings(make_settings: Callable[..., Settings], graph: FakeGraph, **extra: Any) -> Settings:
    return make_settings(
        channels={
            "webchat": {"enabled": False},
            "whatsapp_cloud": {
                "enabled": True,
                "access_token": ACCESS_TOKEN,
                "app_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "phone_number_id": PHONE_NUMBER_ID,
                "api_base_url": graph.api_base_url,
                **extra,
            },
        }
    )


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], graph: FakeGraph
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(wa_settings(make_settings, graph)))


def load(name: str, *, age: timedelta = timedelta(0), **text: str) -> dict[str, Any]:
    """A recorded payload with message timestamps set to now (minus ``age``).

    ``text`` replaces message bodies by message id suffix, e.g. ``load("text", body="hello")``.
    """
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    stamp = str(int(time.time() - age.total_seconds()))
    for entry in data["entry"]:
        for change in entry["changes"]:
            for message in change["value"].get("messages", []):
                message["timestamp"] = stamp
                if "body" in text and message["type"] == "text":
                    message["text"]["body"] = text["body"]
    return data


def first_message(payload: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post(
    client: TestClient[Any, Any],
    payload: dict[str, Any] | bytes,
    *,
    signature: str | None = None,
    signed: bool = True,
) -> aiohttp.ClientResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Hub-Signature-256"] = signature or sign(body)
    return await client.post("/webhooks/whatsapp", data=body, headers=headers)


async def fetch(client: TestClient[Any, Any], query: Any) -> list[Any]:
    async with client.app[HUB].db.engine.connect() as conn:
        return list((await conn.execute(query)).all())


def inbound_rows() -> Any:
    return (
        sa.select(messages)
        .where(messages.c.direction == "inbound", messages.c.channel == "whatsapp_cloud")
        .order_by(messages.c.id)
    )


def outbox_rows() -> Any:
    return sa.select(outbox).order_by(outbox.c.id)


async def settled(client: TestClient[Any, Any], timeout: float = 10) -> list[Any]:
    """Wait until every message is processed and no outbox row waits; returns the rows."""
    hub = client.app[HUB]
    async with asyncio.timeout(timeout):
        while True:
            await hub.inbound.idle()
            rows = await fetch(client, outbox_rows())
            if rows and all(row.status in ("sent", "failed") for row in rows):
                return rows
            await asyncio.sleep(0.02)


# ------------------------------------------------------------ verification


async def test_verification_handshake(client: TestClient[Any, Any]) -> None:
    ok = await client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status == 200
    assert ok.content_type == "text/plain"
    assert await ok.text() == "1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ):
        refused = await client.get("/webhooks/whatsapp", params=params)
        assert refused.status == 403, params
        assert "1" not in await refused.text()


# --------------------------------------------------------------- signature


async def test_signature_valid_accepted_and_bad_ones_refused(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    payload = load("text")
    body = json.dumps(payload).encode()
    tampered = body.replace(b'"halo"', b'"HALO"')
    assert tampered != body
    refusals = [
        await post(client, tampered, signature=sign(body)),
        await post(client, body, signature=sign(body, "another-apps-secret")),
        await post(client, body, signed=False),
        await post(client, body, signature=sign(body).removeprefix("sha256=")),
        await post(client, body, signature="sha1=" + hashlib.sha1(body).hexdigest()),
        await post(client, body, signature="sha256=zz"),
    ]
    assert [r.status for r in refusals] == [403] * len(refusals)
    assert await fetch(client, inbound_rows()) == []
    accepted = await post(client, body)
    assert accepted.status == 200
    stored = await fetch(client, inbound_rows())
    assert [row.text for row in stored] == ["halo"]
    await settled(client)


# ----------------------------------------------------------- conversations


async def test_halo_gets_greeting_then_list_menu(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    payload = load("text")
    response = await post(client, payload)
    assert response.status == 200
    greeting, menu = await graph.wait_for_sent(2)

    for recorded in graph.message_posts:
        assert recorded.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
        assert recorded.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert greeting["to"] == WA_ID and menu["to"] == WA_ID
    assert greeting["messaging_product"] == "whatsapp"
    assert greeting["recipient_type"] == "individual"
    assert greeting["type"] == "text"
    assert greeting["text"]["preview_url"] is False
    assert "selamat datang" in greeting["text"]["body"]

    assert menu["type"] == "interactive"
    interactive = menu["interactive"]
    assert interactive["type"] == "list"
    assert "Saya bisa membantu" in interactive["body"]["text"]
    assert interactive["action"]["button"] == "Pilih"
    (section,) = interactive["action"]["sections"]
    assert [row["id"] for row in section["rows"]] == MENU_IDS
    assert [row["title"] for row in section["rows"]] == [
        "Info layanan",
        "Ambil antrean",
        "Pengaduan (CARE)",
        "Bicara dengan petugas",
        "Langganan info",
    ]

    (stored,) = await fetch(client, inbound_rows())
    assert stored.provider_message_id == first_message(payload)["id"]
    (identity,) = await fetch(client, sa.select(identities))
    assert identity.address == E164
    (contact,) = await fetch(client, sa.select(contacts))
    assert contact.display_name == "Made Wirawan"
    rows = await settled(client)
    assert [row.status for row in rows] == ["sent", "sent"]
    outbound = await fetch(
        client,
        sa.select(messages).where(messages.c.direction == "outbound").order_by(messages.c.id),
    )
    assert [m.provider_message_id for m in outbound] == [graph.wamid_of(0), graph.wamid_of(1)]
    assert [m.delivery_status for m in outbound] == ["sent", "sent"]


async def test_english_greeting_gets_english_list(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    assert (await post(client, load("text", body="hello, good morning"))).status == 200
    greeting, menu = await graph.wait_for_sent(2)
    assert greeting["text"]["body"].startswith("Hello, welcome")
    assert menu["interactive"]["action"]["button"] == "Choose"
    rows = menu["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows][1] == "Book a queue"


@pytest.mark.parametrize(
    ("fixture", "payload", "title", "answer"),
    [
        ("list_reply", "/file_complaint", "Pengaduan (CARE)", "Silakan ceritakan apa"),
        ("template_button", "/talk_to_human", "Bicara dengan petugas", "Baik, percakapan ini"),
    ],
)
async def test_button_press_is_handled_as_the_choice(
    client: TestClient[Any, Any],
    graph: FakeGraph,
    fixture: str,
    payload: str,
    title: str,
    answer: str,
) -> None:
    assert (await post(client, load(fixture))).status == 200
    (reply,) = await graph.wait_for_sent(1)
    assert reply["to"] == WA_ID
    if reply["type"] == "text":  # the handoff: officers answer next
        assert reply["text"]["body"].startswith(answer)
    else:  # the complaint's first question, with its Batal button
        assert reply["interactive"]["type"] == "button"
        assert reply["interactive"]["body"]["text"].startswith(answer)
    (stored,) = await fetch(client, inbound_rows())
    assert stored.choice_payload == payload
    assert stored.text == title
    assert stored.intent == payload.removeprefix("/")


async def test_media_and_location_are_kept_without_downloading(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    for name in ("image", "document", "location", "reaction"):
        response = await post(client, load(name))
        assert response.status == 200, name
    image, document, location = await fetch(client, inbound_rows())
    assert image.attachments == [
        {
            "content_type": "image/jpeg",
            "url": "whatsapp-media:1247349839561020",
            "filename": "",
            "size": None,
            "caption": "foto KTP saya",
        }
    ]
    assert image.text == "foto KTP saya"
    (pdf,) = document.attachments
    assert pdf["url"] == "whatsapp-media:902365174129840"
    assert pdf["content_type"] == "application/pdf"
    assert pdf["filename"] == "surat_pengantar.pdf"
    assert pdf["caption"] == "surat pengantar"
    assert location.location == {
        "latitude": -8.5913,
        "longitude": 115.1869,
        "name": "MPP Badung, Puspem Badung, Jl. Raya Sempidi, Mengwi",
    }
    await settled(client)
    assert [r for r in graph.requests if r.method == "GET"] == [], "media fetched lazily only"

    # Later, when someone needs the file, it is fetched through GET /{media-id}.
    graph.media["1247349839561020"] = (b"\xff\xd8\xff fake jpeg", "image/jpeg")
    channel = client.app[HUB].channels["whatsapp_cloud"]
    assert isinstance(channel, WhatsAppCloudChannel)
    content, mime = await channel.fetch_media(image.attachments[0]["url"])
    assert (content, mime) == (b"\xff\xd8\xff fake jpeg", "image/jpeg")
    with pytest.raises(ChannelError):
        await channel.fetch_media("whatsapp-media:../../me")


async def test_batch_of_two_messages_stored_and_answered_in_order(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    payload = load("batch")
    assert (await post(client, payload)).status == 200
    stored = await fetch(client, inbound_rows())
    assert [row.text for row in stored] == ["halo", "terima kasih"]
    sent = await graph.wait_for_sent(3)
    assert "selamat datang" in sent[0]["text"]["body"]
    assert sent[1]["interactive"]["type"] == "list"
    assert sent[2]["text"]["body"].startswith("Sama-sama")
    rows = await settled(client)
    assert len(rows) == 3


async def test_same_webhook_three_times_is_one_message_and_one_set_of_replies(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    payload = load("text")
    for _ in range(3):
        assert (await post(client, payload)).status == 200
    await graph.wait_for_sent(2)
    rows = await settled(client)
    assert len(rows) == 2
    assert len(graph.sent) == 2
    assert len(await fetch(client, inbound_rows())) == 1


async def test_foreign_number_keeps_its_country(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    payload = load("text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = "447911123456"
    assert (await post(client, payload)).status == 200
    greeting, _menu = await graph.wait_for_sent(2)
    assert greeting["to"] == "447911123456"
    (identity,) = await fetch(client, sa.select(identities))
    assert identity.address == "+447911123456"


# ---------------------------------------------------------------- statuses


async def test_statuses_update_delivery(client: TestClient[Any, Any], graph: FakeGraph) -> None:
    assert (await post(client, load("text"))).status == 200
    await graph.wait_for_sent(2)
    await settled(client)
    delivered = load("status_delivered")
    delivered["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = graph.wamid_of(0)
    failed = load("status_failed")
    failed["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = graph.wamid_of(1)
    unknown = load("status_delivered")
    unknown["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.NOT_OURS"
    for payload in (delivered, failed, unknown):
        assert (await post(client, payload)).status == 200
    greeting, menu = await fetch(
        client,
        sa.select(messages).where(messages.c.direction == "outbound").order_by(messages.c.id),
    )
    assert greeting.delivery_status == "delivered"
    assert menu.delivery_status == "failed"
    assert "131026" in menu.delivery_error
    assert "Message undeliverable" in menu.delivery_error


# ----------------------------------------------------- the 24-hour window


async def test_outside_window_sends_the_configured_template(
    make_settings: Callable[..., Settings], graph: FakeGraph
) -> None:
    """A reply queued, then the citizen's last message rewound past 24 hours."""
    settings = wa_settings(
        make_settings,
        graph,
        templates={
            "greet": {"name": "mpp_sapaan", "language": "id"},
            "menu": {"name": "mpp_menu", "language": "id"},
        },
    )
    hub = Hub(settings)
    await hub.start(dispatch=False)
    try:
        await hub.inbound.accept(
            InboundMessage("whatsapp_cloud", E164, "wamid.window-1", text="halo")
        )
        await hub.inbound.idle()
        async with hub.db.begin() as conn:
            await conn.execute(
                sa.update(identities)
                .where(identities.c.address == E164)
                .values(last_inbound_at=utcnow() - timedelta(hours=25))
            )
        await hub.dispatcher.drain()
    finally:
        await hub.close()
    greeting, menu = graph.sent
    assert greeting["type"] == "template" and greeting["to"] == WA_ID
    assert greeting["template"]["name"] == "mpp_sapaan"
    assert greeting["template"]["language"] == {"code": "id"}
    ((parameter,),) = [c["parameters"] for c in greeting["template"]["components"]]
    assert parameter["type"] == "text"
    assert parameter["text"].startswith("Halo, selamat datang")
    assert menu["template"]["name"] == "mpp_menu"
    menu_text = menu["template"]["components"][0]["parameters"][0]["text"]
    assert "Saya bisa membantu:" in menu_text
    assert "\n" not in menu_text and "    " not in menu_text


async def test_outside_window_without_template_fails_with_a_clear_reason(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    """Meta delivered the webhook late: the citizen wrote 25 hours ago."""
    assert (await post(client, load("text", age=timedelta(hours=25)))).status == 200
    rows = await settled(client)
    assert [row.status for row in rows] == ["failed", "failed"]
    assert rows[0].last_error == (
        "outside the 24-hour window and no template configured for 'greet'"
    )
    assert rows[0].attempts == 1, "permanent: not retried"
    assert graph.message_posts == []
    outbound = await fetch(client, sa.select(messages).where(messages.c.direction == "outbound"))
    assert {m.delivery_status for m in outbound} == {"failed"}


# ------------------------------------------------------------ send errors


@pytest.mark.parametrize(
    ("status", "code", "retry_after"),
    [(500, 1, None), (400, 130429, "0"), (429, 80007, None)],
)
async def test_transient_error_is_retried_and_delivered_once(
    client: TestClient[Any, Any],
    graph: FakeGraph,
    status: int,
    code: int,
    retry_after: str | None,
) -> None:
    graph.fail_next(1, status=status, code=code, retry_after=retry_after)
    assert (await post(client, load("text"))).status == 200
    greeting, _menu = await graph.wait_for_sent(2)
    rows = await settled(client)
    assert [row.status for row in rows] == ["sent", "sent"]
    assert rows[0].attempts == 2
    assert len(graph.message_posts) == 3
    assert [m for m in graph.sent if m["type"] == "text"] == [greeting]


async def test_permanent_error_marks_the_row_failed(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    graph.fail_next(1, status=400, code=131026, message="Message undeliverable.")
    assert (await post(client, load("text"))).status == 200
    rows = await settled(client)
    assert rows[0].status == "failed"
    assert rows[0].attempts == 1
    assert rows[0].last_error == "131026: Message undeliverable."
    greeting = (
        await fetch(client, sa.select(messages).where(messages.c.id == rows[0].message_id))
    )[0]
    assert greeting.delivery_status == "failed"
    assert "131026" in greeting.delivery_error


async def test_send_payload_rules(graph: FakeGraph) -> None:
    """Long text with buttons, clipped titles, attachments by link, resumed partial sends."""
    from hub.config import WhatsAppCloudConfig

    channel = WhatsAppCloudChannel(
        WhatsAppCloudConfig(
            enabled=True,
            access_token=ACCESS_TOKEN,
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            api_base_url=graph.api_base_url,
        )
    )
    async with aiohttp.ClientSession() as http:
        await channel.start(http)
        long_text = "Persyaratan:\n" + "- dokumen yang perlu dibawa\n" * 60
        graph.fail_next(1, after=2)
        message = OutboundMessage(
            channel="whatsapp_cloud",
            recipient=E164,
            text=long_text,
            choices=(Choice("Ya, lanjutkan pendaftaran", "/yes"), Choice("Tidak", "/no")),
            attachments=(
                Attachment("application/pdf", "https://mpp.badungkab.go.id/f.pdf", "f.pdf"),
            ),
            idempotency_key="msg-42",
        )
        with pytest.raises(ChannelError) as failed:
            await channel.send(message)
        assert not failed.value.permanent
        result = await channel.send(message)
        await channel.stop()
    document, text, buttons = graph.sent
    assert document["document"] == {
        "link": "https://mpp.badungkab.go.id/f.pdf",
        "filename": "f.pdf",
    }
    assert text["text"]["body"] == long_text and len(long_text) > 1024
    assert buttons["interactive"]["type"] == "button"
    assert buttons["interactive"]["body"]["text"] == "Silakan pilih:"
    titles = [b["reply"]["title"] for b in buttons["interactive"]["action"]["buttons"]]
    assert titles == ["Ya, lanjutkan pendaf", "Tidak"]  # Meta's 20-character limit
    assert len(graph.message_posts) == 4, "document and text were not sent twice"
    assert result.provider_message_id == graph.wamid_of(2)


# ---------------------------------------------------------- bad requests


async def test_malformed_bodies_are_400_and_nothing_is_stored(
    client: TestClient[Any, Any],
) -> None:
    missing_from = load("text")
    del first_message(missing_from)["from"]
    for body in (
        b"{not json",
        b"[]",
        json.dumps({"object": "page", "entry": []}).encode(),
        json.dumps({"object": "whatsapp_business_account", "entry": {}}).encode(),
        json.dumps(missing_from).encode(),
    ):
        response = await post(client, body)
        assert response.status == 400, body
        answer = await response.json()
        assert "error" in answer and "Traceback" not in json.dumps(answer)
    assert await fetch(client, inbound_rows()) == []


async def test_body_over_one_mib_is_413(client: TestClient[Any, Any]) -> None:
    payload = load("text", body="a" * (1024 * 1024 + 10))
    response = await post(client, payload)
    assert response.status == 413
    assert await fetch(client, inbound_rows()) == []


def test_parse_keeps_unknown_fields_and_skips_other_numbers() -> None:
    payload = load("batch")
    first_message(payload)["future_field"] = {"x": 1}
    events = parse_webhook(json.dumps(payload).encode(), "whatsapp_cloud", PHONE_NUMBER_ID)
    assert [m.text for m in events.messages] == ["halo", "terima kasih"]
    assert events.messages[0].raw["future_field"] == {"x": 1}
    assert events.messages[0].sender == E164
    assert events.messages[0].sender_name == "Made Wirawan"
    other = copy.deepcopy(payload)
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    skipped = parse_webhook(json.dumps(other).encode(), "whatsapp_cloud", PHONE_NUMBER_ID)
    assert skipped.messages == [] and skipped.ignored == 1


async def test_the_booking_button_starts_the_booking_flow(
    client: TestClient[Any, Any], graph: FakeGraph
) -> None:
    assert (await post(client, load("button_reply"))).status == 200
    (question,) = await graph.wait_for_sent(1)
    assert question["to"] == WA_ID and question["type"] == "interactive"
    assert question["interactive"]["type"] == "list", "eight services: a list, not buttons"
    assert question["interactive"]["body"]["text"].startswith("Ambil antrean untuk layanan apa?")
    (stored,) = await fetch(client, inbound_rows())
    assert stored.choice_payload == "/book_queue"
    assert stored.text == "Ambil antrean"

"""Telegram end to end: recorded updates through the real app, replies at a fake Bot API.

The real python-telegram-bot talks to :class:`tests.fakes.telegram.FakeTelegram`
through ``api_base_url``; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.channels.base import ChannelError
from hub.channels.telegram import TelegramChannel
from hub.config import Settings, TelegramConfig
from hub.model import Attachment, Choice, OutboundMessage
from hub.store.tables import contacts, messages, outbox
from tests.fakes.telegram import FakeTelegram, Recorded

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]
Client = TestClient[Any, Any]

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
SECRET = "s3cret-Token_for-webhooks"
CHAT = "5012345678"
MENU_TITLES = [
    "Info layanan",
    "Ambil antrean",
    "Pengaduan (CARE)",
    "Bicara dengan petugas",
    "Langganan info",
]
MENU_PAYLOADS = [
    "/ask_service_info",
    "/book_queue",
    "/file_complaint",
    "/talk_to_human",
    "/subscribe",
]
ENTRY_POINT = Path(sys.executable).parent / "omnihub"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: FakeTelegram) -> Settings:
    return telegram_settings(make_settings, fake)


def telegram_settings(
    make_settings: Callable[..., Settings], fake: FakeTelegram, **telegram: Any
) -> Settings:
    section = {
        "enabled": True,
        "token": fake.token,
        "secret_token": SECRET,
        "api_base_url": fake.url,
        **telegram,
    }
    return make_settings(channels={"telegram": section})


async def post(client: Client, body: Any, secret: str | None = SECRET) -> ClientResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await client.post("/webhooks/telegram", data=data, headers=headers)


async def count(client: Client, query: Any) -> int:
    async with client.app[HUB].db.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def rows(client: Client, query: Any) -> list[Any]:
    async with client.app[HUB].db.engine.connect() as conn:
        return list((await conn.execute(query)).all())


def inbound_count() -> Any:
    return sa.select(sa.func.count()).select_from(messages).where(messages.c.direction == "inbound")


async def stored_inbound(client: Client) -> Any:
    found = await rows(client, sa.select(messages).where(messages.c.direction == "inbound"))
    assert len(found) == 1
    return found[0]


async def outbox_settled(client: Client, expected: int, timeout: float = 15.0) -> list[Any]:
    """Wait until ``expected`` outbox rows exist and each is sent or failed for good."""
    async with asyncio.timeout(timeout):
        while True:
            found = await rows(client, sa.select(outbox).order_by(outbox.c.id))
            if len(found) >= expected and all(r.status in ("sent", "failed") for r in found):
                return found
            await asyncio.sleep(0.05)


def keyboard(call: Recorded) -> list[list[dict[str, Any]]]:
    markup = call.params["reply_markup"]
    assert isinstance(markup, dict)
    rows_: list[list[dict[str, Any]]] = markup["inline_keyboard"]
    return rows_


# -- inbound through the webhook --------------------------------------------------------


async def test_text_gets_indonesian_greeting_and_menu_as_inline_keyboard(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    update = load("text")
    update["message"]["future_field"] = {"kept": True}
    response = await post(client, update)
    assert response.status == 200
    greet, menu = await fake.wait_for("sendMessage", 2)
    assert greet.params["chat_id"] == CHAT and menu.params["chat_id"] == CHAT
    assert greet.params["parse_mode"] == "HTML"
    assert "selamat datang" in greet.params["text"]
    assert "reply_markup" not in greet.params
    assert "Saya bisa membantu" in menu.params["text"]
    buttons = keyboard(menu)
    assert all(len(row) == 1 for row in buttons), "one button per row"
    assert [row[0]["text"] for row in buttons] == MENU_TITLES
    assert [row[0]["callback_data"] for row in buttons] == MENU_PAYLOADS
    assert "Balas dengan angka" not in menu.params["text"]
    stored = await stored_inbound(client)
    assert stored.provider_message_id == f"{CHAT}:1365"
    assert stored.text == "halo" and stored.choice_payload is None
    assert stored.raw["message"]["future_field"] == {"kept": True}, "unknown fields kept"
    names = await rows(client, sa.select(contacts.c.display_name))
    assert names == [("Made Wirawan",)]
    sent = await outbox_settled(client, 2)
    assert [r.status for r in sent] == ["sent", "sent"]
    delivered = await rows(
        client,
        sa.select(messages.c.provider_message_id, messages.c.delivery_status).where(
            messages.c.direction == "outbound"
        ),
    )
    assert all(status == "sent" and pid.startswith(f"{CHAT}:") for pid, status in delivered)


async def test_english_text_gets_english_reply(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("text_english"))).status == 200
    greet, menu = await fake.wait_for("sendMessage", 2)
    assert greet.params["text"].startswith("Hello, welcome")
    assert [row[0]["text"] for row in keyboard(menu)][1] == "Book a queue"


async def test_start_and_help_commands_map_to_greet_and_help(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("start"))).status == 200
    greet, _menu = await fake.wait_for("sendMessage", 2)
    assert "selamat datang" in greet.params["text"]
    assert (await post(client, load("help"))).status == 200
    calls = await fake.wait_for("sendMessage", 3)
    assert "Saya bisa membantu" in calls[2].params["text"] and keyboard(calls[2])
    found = await rows(
        client,
        sa.select(messages.c.text, messages.c.choice_payload, messages.c.intent)
        .where(messages.c.direction == "inbound")
        .order_by(messages.c.id),
    )
    assert found == [
        ("/start", "/greet", "greet"),
        ("/help@mppbadung_test_bot", "/help", "help"),
    ]
    await outbox_settled(client, 3)
    assert len(fake.calls("sendMessage")) == 3, "/help answers with the menu only"


async def test_button_press_is_answered_and_replied_to(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await post(client, load("callback_query"))
    assert response.status == 200
    (answer,) = await fake.wait_for("answerCallbackQuery", 1)
    assert answer.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    # The "Ambil antrean" button starts booking: which service, as buttons.
    (reply,) = await fake.wait_for("sendMessage", 1)
    assert reply.params["chat_id"] == CHAT
    assert reply.params["text"].startswith("Ambil antrean untuk layanan apa?")
    assert keyboard(reply)
    stored = await stored_inbound(client)
    assert stored.provider_message_id == "cb:4382bfdwdsb323b2d9"
    assert stored.choice_payload == "/book_queue"
    assert stored.text == "Ambil antrean", "the pressed button's title"
    assert stored.intent == "book_queue"


async def test_location_is_stored_as_location(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("location"))).status == 200
    stored = await stored_inbound(client)
    assert stored.location == {"latitude": -8.581902, "longitude": 115.177384, "name": ""}
    assert stored.provider_message_id == f"{CHAT}:1369"
    await fake.wait_for("sendMessage", 1)


async def test_photo_keeps_largest_size_as_lazy_attachment(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("photo"))).status == 200
    stored = await stored_inbound(client)
    assert stored.text == "foto KTP saya"
    assert stored.attachments == [
        {
            "content_type": "image/jpeg",
            "url": "telegram-file:AgACAgUAAxkBAAIFW2ZfLarge",
            "filename": "",
            "size": 90871,
            "caption": "foto KTP saya",
        }
    ]
    await fake.wait_for("sendMessage", 1)
    assert fake.calls("getFile") == [], "files are not downloaded in the webhook"


async def test_document_becomes_attachment_with_name_and_type(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("document"))).status == 200
    stored = await stored_inbound(client)
    assert stored.attachments == [
        {
            "content_type": "application/pdf",
            "url": "telegram-file:BQACAgUAAxkBAAIFXGZfDoc",
            "filename": "surat_pengantar.pdf",
            "size": 52344,
            "caption": "",
        }
    ]
    assert fake.calls("getFile") == []


@pytest.mark.parametrize("name", ["edited_message", "channel_post"])
async def test_other_update_kinds_are_acknowledged_and_ignored(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram, name: str
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await post(client, load(name))
    assert response.status == 200
    assert await count(client, inbound_count()) == 0
    assert await count(client, sa.select(sa.func.count()).select_from(outbox)) == 0


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_wrong_or_missing_secret_is_refused_and_nothing_stored(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram, secret: str | None
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await post(client, load("text"), secret=secret)
    assert response.status == 403
    assert await count(client, inbound_count()) == 0
    assert fake.calls("sendMessage") == []


async def test_same_update_three_times_is_stored_and_answered_once(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    for _ in range(3):
        assert (await post(client, load("text"))).status == 200
    for _ in range(3):
        assert (await post(client, load("callback_query"))).status == 200
    # halo: greeting and menu; the booking button: one question.
    await fake.wait_for("sendMessage", 3)
    await outbox_settled(client, 3)
    await client.app[HUB].inbound.idle()
    assert await count(client, inbound_count()) == 2
    assert await count(client, sa.select(sa.func.count()).select_from(outbox)) == 3
    assert len(fake.calls("sendMessage")) == 3, "one set of replies per update"
    await fake.wait_for("answerCallbackQuery", 1)
    assert len(fake.calls("answerCallbackQuery")) == 1


async def test_flood_control_429_is_retried_after_retry_after(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    fake.fail_next("sendMessage", 1, status=429, retry_after=1)
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("text"))).status == 200
    calls = await fake.wait_for("sendMessage", 3)
    failed = calls[0]
    retried = next(c for c in calls[1:] if c.params["text"] == failed.params["text"])
    assert retried.at - failed.at >= 0.95, "waited the retry_after Telegram asked for"
    sent = await outbox_settled(client, 2)
    assert sorted(r.attempts for r in sent) == [1, 2]
    assert all(r.status == "sent" for r in sent)
    texts = [c.params["text"] for c in calls]
    assert len(set(texts)) == 2, "each reply delivered exactly once"
    await asyncio.sleep(0.3)
    assert len(fake.calls("sendMessage")) == 3


async def test_blocked_bot_fails_the_outbox_row_for_good(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    fake.fail_next(
        "sendMessage", 2, status=403, description="Forbidden: bot was blocked by the user"
    )
    client = await aiohttp_client(create_app(settings))
    assert (await post(client, load("text"))).status == 200
    settled = await outbox_settled(client, 2)
    assert [(r.status, r.attempts) for r in settled] == [("failed", 1), ("failed", 1)]
    assert all("blocked" in (r.last_error or "") for r in settled)
    outbound = await rows(
        client,
        sa.select(messages.c.delivery_status, messages.c.delivery_error).where(
            messages.c.direction == "outbound"
        ),
    )
    assert [status for status, _ in outbound] == ["failed", "failed"]
    assert all("Forbidden" in (error or "") for _, error in outbound)
    assert len(fake.calls("sendMessage")) == 2, "not retried"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2, 3]",
        b'"text"',
        b'{"message": {"text": "halo"}}',
        b'{"update_id": "abc"}',
        b'{"update_id": 5, "message": {"message_id": 1, "text": "halo"}}',
        b'{"update_id": 5, "message": "halo"}',
    ],
)
async def test_malformed_body_is_400_without_traceback(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    fake: FakeTelegram,
    body: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await aiohttp_client(create_app(settings))
    with caplog.at_level(logging.WARNING, logger="hub"):
        response = await post(client, body)
    assert response.status == 400
    payload = await response.json()
    assert set(payload) == {"error"} and "Traceback" not in payload["error"]
    assert not [r for r in caplog.records if r.exc_info], "logged without a traceback"
    assert all("halo" not in r.getMessage() for r in caplog.records), "body content not logged"
    assert await count(client, inbound_count()) == 0


async def test_body_over_one_mebibyte_is_413(
    aiohttp_client: AiohttpClient, settings: Settings, fake: FakeTelegram
) -> None:
    client = await aiohttp_client(create_app(settings))
    update = load("text")
    update["message"]["text"] = "a" * (1024 * 1024 + 10)
    response = await post(client, update)
    assert response.status == 413
    assert await count(client, inbound_count()) == 0


# -- polling -------------------------------------------------------------------------------


async def test_polling_mode_end_to_end(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], fake: FakeTelegram
) -> None:
    fake.webhook = {"url": "https://old.example.org/webhooks/telegram"}
    fake.fail_next("getUpdates", 1, status=502, description="Bad Gateway")
    settings = telegram_settings(make_settings, fake, mode="polling", secret_token="")
    app = create_app(settings)
    client = await aiohttp_client(app)
    channel = app[HUB].channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    assert (await post(client, load("text"))).status in (404, 405), "no webhook route"
    assert fake.calls("deleteWebhook"), "a leftover webhook would block getUpdates"

    fake.queue_update(load("text"))
    greet, menu = await fake.wait_for("sendMessage", 2)
    assert greet.params["chat_id"] == CHAT and "selamat datang" in greet.params["text"]
    assert [row[0]["text"] for row in keyboard(menu)] == MENU_TITLES

    confirm = load("text")["update_id"] + 1
    async with asyncio.timeout(10):
        while not any(c.params.get("offset") == str(confirm) for c in fake.calls("getUpdates")):
            await asyncio.sleep(0.02)
    first_poll = fake.calls("getUpdates")[0]
    assert first_poll.params["allowed_updates"] == ["message", "callback_query"]

    fake.queue_update(load("callback_query"))
    (answer,) = await fake.wait_for("answerCallbackQuery", 1)
    assert answer.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    await fake.wait_for("sendMessage", 3)
    await outbox_settled(client, 3)
    assert await count(client, inbound_count()) == 2

    await client.close()
    assert channel._poll_task is None, "the polling loop ended"
    assert not channel._initialized
    polls = len(fake.calls("getUpdates"))
    await asyncio.sleep(0.5)
    assert len(fake.calls("getUpdates")) == polls, "no polling after stop"


# -- outbound, directly through the channel ---------------------------------------------


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    config = TelegramConfig(
        enabled=True, token=fake.token, secret_token=SECRET, api_base_url=fake.url
    )
    made = TelegramChannel(config)
    async with ClientSession() as http:
        await made.start(http)
        yield made
        await made.stop()


def outbound(text: str = "Halo", **extra: Any) -> OutboundMessage:
    return OutboundMessage(channel="telegram", recipient=CHAT, text=text, **extra)


async def test_start_initialises_the_bot_with_get_me(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    assert len(fake.calls("getMe")) == 1
    await channel.send(outbound())
    await channel.send(outbound())
    assert len(fake.calls("getMe")) == 1, "initialised once"
    assert fake.calls("sendMessage")[0].path == f"/bot{fake.token}/sendMessage"


async def test_text_is_html_escaped(channel: TelegramChannel, fake: FakeTelegram) -> None:
    result = await channel.send(outbound("Biaya < Rp 10.000 & <b>gratis</b>"))
    (call,) = fake.calls("sendMessage")
    assert call.params["text"] == "Biaya &lt; Rp 10.000 &amp; &lt;b&gt;gratis&lt;/b&gt;"
    assert call.params["parse_mode"] == "HTML"
    assert result.provider_message_id.startswith(f"{CHAT}:")


async def test_photo_with_short_text_uses_caption_and_buttons(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    photo = Attachment(content_type="image/png", url="https://example.org/denah.png")
    await channel.send(
        outbound("Denah <MPP>", attachments=(photo,), choices=(Choice("Menu", "/help"),))
    )
    (call,) = fake.calls("sendPhoto")
    assert call.params["photo"] == "https://example.org/denah.png"
    assert call.params["caption"] == "Denah &lt;MPP&gt;"
    assert keyboard(call) == [[{"text": "Menu", "callback_data": "/help"}]]
    assert fake.calls("sendMessage") == []


async def test_several_attachments_then_text_with_buttons(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    files = (
        Attachment(content_type="image/jpeg", url="telegram-file:AgACphoto"),
        Attachment(
            content_type="application/pdf", url="https://example.org/f.pdf", caption="Formulir"
        ),
    )
    result = await channel.send(
        outbound("Silakan isi formulir", attachments=files, choices=(Choice("Menu", "/help"),))
    )
    assert [c.method for c in fake.requests if c.method.startswith("send")] == [
        "sendPhoto",
        "sendDocument",
        "sendMessage",
    ]
    assert fake.calls("sendPhoto")[0].params["photo"] == "AgACphoto", "file_id reused"
    assert fake.calls("sendDocument")[0].params["caption"] == "Formulir"
    text = fake.calls("sendMessage")[0]
    assert keyboard(text) and "reply_markup" not in fake.calls("sendPhoto")[0].params
    assert result.provider_message_id == f"{CHAT}:5003", "the text message, sent last"


async def test_provider_errors_become_transient_or_permanent(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.fail_next("sendMessage", 1, status=429, retry_after=7)
    with pytest.raises(ChannelError) as flood:
        await channel.send(outbound())
    assert flood.value.retry_after == 7.0 and not flood.value.permanent

    fake.fail_next("sendMessage", 1, status=502, description="Bad Gateway")
    with pytest.raises(ChannelError) as gateway:
        await channel.send(outbound())
    assert not gateway.value.permanent and gateway.value.retry_after is None

    fake.fail_next("sendMessage", 1, status=400, description="Bad Request: chat not found")
    with pytest.raises(ChannelError) as missing:
        await channel.send(outbound())
    assert missing.value.permanent and "chat not found" in missing.value.reason.lower()

    fake.fail_next("sendMessage", 1, status=403, description="Forbidden: bot was blocked")
    with pytest.raises(ChannelError) as blocked:
        await channel.send(outbound())
    assert blocked.value.permanent

    with pytest.raises(ChannelError) as too_long:
        await channel.send(outbound(choices=(Choice("x", "/" + "a" * 64),)))
    assert too_long.value.permanent and "64" in too_long.value.reason


async def test_unreachable_api_is_transient(fake: FakeTelegram) -> None:
    config = TelegramConfig(
        enabled=True, token=fake.token, secret_token=SECRET, api_base_url="http://127.0.0.1:9"
    )
    unreachable = TelegramChannel(config)
    async with ClientSession() as http:
        await unreachable.start(http)  # must not raise: the hub still starts
        with pytest.raises(ChannelError) as error:
            await unreachable.send(outbound())
        await unreachable.stop()
    assert not error.value.permanent


async def test_wrong_token_is_permanent_and_never_in_the_reason(fake: FakeTelegram) -> None:
    token = "999:WRONG-token-value"
    config = TelegramConfig(enabled=True, token=token, secret_token=SECRET, api_base_url=fake.url)
    wrong = TelegramChannel(config)
    async with ClientSession() as http:
        await wrong.start(http)
        with pytest.raises(ChannelError) as error:
            await wrong.send(outbound())
        await wrong.stop()
    assert error.value.permanent
    assert token not in error.value.reason and "WRONG" not in error.value.reason


async def test_fetch_file_goes_through_get_file(
    channel: TelegramChannel, fake: FakeTelegram
) -> None:
    fake.files["BQACdoc"] = b"%PDF-1.4 surat"
    assert await channel.fetch_file("telegram-file:BQACdoc") == b"%PDF-1.4 surat"
    assert fake.calls("getFile")[0].params["file_id"] == "BQACdoc"
    with pytest.raises(ValueError):
        await channel.fetch_file("https://example.org/x")


# -- omnihub telegram set-webhook ---------------------------------------------------------


async def run_cli(tmp_path: Path, config: str, *args: str, model_path: str) -> tuple[int, str, str]:
    """``omnihub --config … args``; ``model_path`` is an NLU model trained already."""
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    env["OMNIHUB_NLU__MODEL_PATH"] = model_path
    process = await asyncio.create_subprocess_exec(
        str(ENTRY_POINT),
        "--config",
        str(path),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def cli_config(fake: FakeTelegram, tmp_path: Path, **telegram: str) -> str:
    section = {
        "enabled": "true",
        "token": fake.token,
        "secret_token": SECRET,
        "api_base_url": fake.url,
        **telegram,
    }
    lines = "".join(f"    {key}: '{value}'\n" for key, value in section.items())
    return (
        "server:\n  public_url: https://mpp.badungkab.example/\n"
        f"storage:\n  url: sqlite+aiosqlite:///{tmp_path / 'cli.db'}\n"
        f"channels:\n  telegram:\n{lines}"
    ).replace("'true'", "true")


async def test_set_webhook_command_registers_public_url_with_secret(
    fake: FakeTelegram, tmp_path: Path, trained_nlu_model: str
) -> None:
    code, out, err = await run_cli(
        tmp_path,
        cli_config(fake, tmp_path),
        "telegram",
        "set-webhook",
        model_path=trained_nlu_model,
    )
    assert code == 0, err
    assert fake.webhook["url"] == "https://mpp.badungkab.example/webhooks/telegram"
    assert fake.webhook["secret_token"] == SECRET
    assert fake.webhook["allowed_updates"] == ["message", "callback_query"]
    assert "https://mpp.badungkab.example/webhooks/telegram" in out
    assert fake.token not in out + err and SECRET not in out + err


async def test_set_webhook_command_refuses_polling_mode_and_reports_errors(
    fake: FakeTelegram, tmp_path: Path, trained_nlu_model: str
) -> None:
    polling = cli_config(fake, tmp_path, mode="polling")
    code, _out, err = await run_cli(
        tmp_path, polling, "telegram", "set-webhook", model_path=trained_nlu_model
    )
    assert code == 2 and "polling" in err
    assert fake.calls("setWebhook") == []

    fake.fail_next(
        "setWebhook", 1, status=400, description="Bad Request: bad webhook: HTTPS url required"
    )
    code, _out, err = await run_cli(
        tmp_path,
        cli_config(fake, tmp_path),
        "telegram",
        "set-webhook",
        model_path=trained_nlu_model,
    )
    assert code == 1 and "https url required" in err.lower()
    assert fake.token not in err and "Traceback" not in err

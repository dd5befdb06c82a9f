"""The booking code's QR image: drawn by the hub, sent with a confirmation where it shows.

Telegram, WhatsApp (Twilio and Cloud API) and the web chat get the image by the
hub's public URL; SMS gets the text only. The images are decoded back with
zxing-cpp, as a check-in scanner would read them. The hub's clock stands still on
a Monday (see ``tests.test_booking_dialog``), so "besok" is a working day.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import segno
import zxingcpp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from playwright.async_api import Browser, Page

from hub.app import HUB, create_app
from hub.booking import Booking
from hub.booking.codes import ALPHABET, CODE_LENGTH, is_code, new_code, qr_path
from hub.channels.base import Capabilities
from hub.config import Settings
from hub.model import Attachment, OutboundMessage, Reply
from hub.pipeline.render import Renderer
from hub.resources import templates_dir
from hub.web.media import add_media_routes, qr_png
from tests import test_telegram as tg
from tests import test_whatsapp_cloud as wa
from tests.chat_client import ChatClient, browser_visitor
from tests.fakes.graph import FakeGraph
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.services import bound_socket
from tests.test_booking_dialog import KTP, TUE, WED, fixed_clock
from tests.test_twilio import PUBLIC_URL, WEBHOOK, fixture, settings_for
from tests.test_twilio import post as twilio_post

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

CODE = "B-7Q4M2X"


def decode(png: bytes) -> list[tuple[str, str]]:
    """What a scanner reads in the image: (text, symbology) of every code found."""
    image = Image.open(io.BytesIO(png))
    return [(found.text, found.format.name) for found in zxingcpp.read_barcodes(image)]


def qr_url(code: str) -> str:
    return f"{PUBLIC_URL}/media/qr/{code}.png"


async def booked(app: web.Application) -> Booking:
    [booking] = await app[HUB].bookings.list(TUE)
    assert booking.service_id == KTP.id and booking.session == "pagi"
    return booking


# --- the code, the image and the route ------------------------------------------------------


def test_is_code_takes_only_the_canonical_spelling() -> None:
    assert is_code(CODE)
    assert all(is_code(new_code()) for _ in range(200))
    for text in (
        "B-0Q4M2X",  # 0 is not in the alphabet
        "B-OQ4M2X",  # nor O
        "B-1Q4M2X",
        "B-ABCDEF",  # no digit: never issued
        "b-7q4m2x",  # a URL has one spelling
        "B7Q4M2X",
        "B-7Q4M2XA",
        "B-7Q4M2",
        " B-7Q4M2X",
        "B-7Q4M2X\n",
        "<script>",
        "",
    ):
        assert not is_code(text), text
    assert qr_path(CODE) == "/media/qr/B-7Q4M2X.png"
    with pytest.raises(ValueError):
        qr_path("../../etc/passwd")


def test_qr_png_is_a_qr_code_a_scanner_reads_back() -> None:
    png = qr_png(CODE)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # A full QR code (phone scanners often cannot read Micro QR), big enough for a screen:
    # version 1 is 21 modules, plus a 4-module quiet zone each side, 8 px a module.
    assert decode(png) == [(CODE, "QRCode")]
    assert Image.open(io.BytesIO(png)).size == ((21 + 2 * 4) * 8,) * 2
    # Level M at least; segno raises it (to H) while the code still fits version 1.
    assert segno.make_qr(CODE, error="m").designator == "1-H"


def test_every_code_shape_decodes() -> None:
    for code in (new_code() for _ in range(5)):
        assert decode(qr_png(code)) == [(code, "QRCode")]
    longest = "B-" + ALPHABET[-CODE_LENGTH:]
    assert decode(qr_png(longest)) == [(longest, "QRCode")]


@pytest.fixture
async def media_only(aiohttp_client: AiohttpClient) -> TestClient[Any, Any]:
    """The route on an app with no hub and no database: it cannot look anything up."""
    app = web.Application()
    add_media_routes(app)
    return await aiohttp_client(app)


async def test_route_draws_any_well_formed_code(media_only: TestClient[Any, Any]) -> None:
    response = await media_only.get(f"/media/qr/{CODE}.png")
    assert response.status == 200
    assert response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert decode(await response.read()) == [(CODE, "QRCode")]


@pytest.mark.parametrize(
    "name",
    [
        "B-0Q4M2X.png",
        "B-OQ4M2X.png",
        "B-ABCDEF.png",
        "b-7q4m2x.png",
        "B-7Q4M2XA.png",
        "B-7Q4M2X",
        "B-7Q4M2X.jpg",
        "%3Cscript%3Ealert(1)%3C%5Cscript%3E.png",
        "B-" + "7" * 500 + ".png",
    ],
)
async def test_route_refuses_what_is_not_a_code(
    media_only: TestClient[Any, Any], name: str
) -> None:
    response = await media_only.get(f"/media/qr/{name}")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "no such image"}


async def test_hub_serves_the_route_without_a_booking(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings(), clock=fixed_clock))
    assert await client.app[HUB].bookings.list(TUE) == []
    response = await client.get(f"/media/qr/{CODE}.png")
    assert response.status == 200, "a code nobody holds looks like any other"
    assert decode(await response.read()) == [(CODE, "QRCode")]
    missing = await client.get("/media/qr/B-0000.png")
    assert missing.status == 404 and await missing.json() == {"error": "no such image"}


# --- the renderer ----------------------------------------------------------------------------


def test_renderer_makes_hub_paths_absolute_and_drops_them_for_sms() -> None:
    renderer = Renderer(templates_dir(), public_url="https://hub.example.org/")
    qr = Attachment(content_type="image/png", url=qr_path(CODE), filename=f"{CODE}.png")
    elsewhere = Attachment(content_type="image/jpeg", url="https://cdn.example.org/a.jpg")
    reply = Reply("menu", attachments=(qr, elsewhere))

    def render(capabilities: Capabilities) -> list[OutboundMessage]:
        return renderer.render(
            reply, locale="id", channel="x", recipient="r", capabilities=capabilities
        )

    [rich] = render(Capabilities(max_text_length=4000, attachments=True))
    assert [a.url for a in rich.attachments] == [
        "https://hub.example.org/media/qr/B-7Q4M2X.png",
        "https://cdn.example.org/a.jpg",
    ]
    assert rich.attachments[0].filename == f"{CODE}.png"
    [sms] = render(Capabilities(max_text_length=4000, attachments=False))
    assert sms.attachments == () and sms.text == rich.text


# --- end to end, channel by channel ----------------------------------------------------------


async def test_web_chat_booking_and_moving_carry_the_qr_code(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(server={"public_url": PUBLIC_URL})
    client = await aiohttp_client(create_app(settings, clock=fixed_clock))
    chat = await ChatClient.connect(client)
    await chat.say("antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001")
    [confirm] = await chat.replies(1)
    assert confirm["attachments"] == [], "only the confirmation carries the image"
    await chat.say("ya")
    [done] = await chat.replies(1)
    booking = await booked(client.app)
    assert f"Kode booking: {booking.code}" in done["text"]
    expected = {
        "url": qr_url(booking.code),
        "content_type": "image/png",
        "filename": f"{booking.code}.png",
        "caption": booking.code,
    }
    assert done["attachments"] == [expected]
    image = await client.get(f"/media/qr/{booking.code}.png")
    assert decode(await image.read()) == [(booking.code, "QRCode")]

    for text in ("ubah jadwal antrean saya", "lusa", "siang"):
        await chat.say(text)
        await chat.replies(1)
    await chat.say("ya")
    [moved] = await chat.replies(1)
    assert moved["text"].startswith(f"Antrean {booking.code} sudah dipindah.")
    assert moved["attachments"] == [expected], "the code stays, and so does its image"
    [after] = await client.app[HUB].bookings.list(WED)
    assert after.code == booking.code
    await chat.close()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


def telegram_update(number: int, text: str) -> dict[str, Any]:
    update = tg.load("text")
    update["update_id"] += number
    update["message"]["message_id"] += number
    update["message"]["text"] = text
    return update


async def test_telegram_confirmation_sends_the_qr_photo(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], telegram: FakeTelegram
) -> None:
    settings = make_settings(
        server={"public_url": PUBLIC_URL},
        channels={
            "telegram": {
                "enabled": True,
                "token": telegram.token,
                "secret_token": tg.SECRET,
                "api_base_url": telegram.url,
            }
        },
    )
    client = await aiohttp_client(create_app(settings, clock=fixed_clock))
    assert (
        await tg.post(
            client,
            telegram_update(1, "antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001"),
        )
    ).status == 200
    [confirm] = await telegram.wait_for("sendMessage", 1)
    assert confirm.params["chat_id"] == tg.CHAT
    assert telegram.calls("sendPhoto") == []
    assert (await tg.post(client, telegram_update(2, "ya"))).status == 200
    [photo] = await telegram.wait_for("sendPhoto", 1)
    booking = await booked(client.app)
    assert photo.params["chat_id"] == tg.CHAT
    assert photo.params["photo"] == qr_url(booking.code)
    await tg.outbox_settled(client, 2)
    # The confirmation text travels as the photo's caption, or right after the photo.
    texts = [photo.params.get("caption", "")] + [
        c.params["text"] for c in telegram.calls("sendMessage")[1:]
    ]
    assert any(f"Kode booking: {booking.code}" in text for text in texts), texts


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.close()


async def twilio_booking(
    client: TestClient[Any, Any], twilio: FakeTwilio, kind: str, answer: str
) -> list[Any]:
    """Book KTP for tomorrow morning by ``kind`` ("sms" or "whatsapp"); all sent messages."""
    for number, text in enumerate(
        ("antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001", answer), start=1
    ):
        sid = f"SM{number:032x}"
        response = await twilio_post(
            client, WEBHOOK, fixture(f"{kind}_text", MessageSid=sid, Body=text)
        )
        assert response.status == 200
        await twilio.wait_for_messages(number)
    return twilio.messages


async def test_whatsapp_by_twilio_gets_the_qr_as_media(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    app = create_app(settings_for(make_settings, twilio), clock=fixed_clock)
    client = await aiohttp_client(app)
    confirm, done = await twilio_booking(client, twilio, "whatsapp", "ya")
    booking = await booked(app)
    assert "MediaUrl" not in confirm.form
    assert done.field("To") == "whatsapp:+6281234567890"
    assert done.form["MediaUrl"] == [qr_url(booking.code)]
    assert f"Kode booking: {booking.code}" in done.field("Body")


async def test_sms_gets_no_media_and_no_link(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], twilio: FakeTwilio
) -> None:
    app = create_app(settings_for(make_settings, twilio, whatsapp=False), clock=fixed_clock)
    client = await aiohttp_client(app)
    sent = await twilio_booking(client, twilio, "sms", "1")
    booking = await booked(app)
    assert booking.channel == "sms"
    assert booking.code in sent[-1].field("Body")
    assert all("MediaUrl" not in message.form for message in sent)
    assert all("/media/qr/" not in message.field("Body") for message in sent)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(wa.ACCESS_TOKEN, wa.PHONE_NUMBER_ID).start()
    yield fake
    await fake.close()


def whatsapp_text(number: int, body: str) -> dict[str, Any]:
    payload = wa.load("text", body=body)
    wa.first_message(payload)["id"] = f"wamid.QR{number:04d}"
    return payload


async def test_whatsapp_cloud_sends_an_image_message_by_link(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], graph: FakeGraph
) -> None:
    settings = make_settings(
        server={"public_url": PUBLIC_URL},
        channels={
            "webchat": {"enabled": False},
            "whatsapp_cloud": {
                "enabled": True,
                "access_token": wa.ACCESS_TOKEN,
                "app_secret": wa.APP_SECRET,
                "verify_token": wa.VERIFY_TOKEN,
                "phone_number_id": wa.PHONE_NUMBER_ID,
                "api_base_url": graph.api_base_url,
            },
        },
    )
    app = create_app(settings, clock=fixed_clock)
    client = await aiohttp_client(app)
    assert (
        await wa.post(
            client,
            whatsapp_text(1, "antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001"),
        )
    ).status == 200
    [confirm] = await graph.wait_for_sent(1)
    assert confirm["type"] == "interactive"
    assert (await wa.post(client, whatsapp_text(2, "ya"))).status == 200
    sent = await graph.wait_for_sent(3)
    booking = await booked(app)
    image, text = sent[1:3]
    assert image["to"] == wa.WA_ID and image["type"] == "image"
    assert image["image"] == {"link": qr_url(booking.code), "caption": booking.code}
    assert text["type"] == "text" and f"Kode booking: {booking.code}" in text["text"]["body"]
    assert sum(1 for body in graph.sent if body["type"] == "image") == 1


# --- the web chat page in a real browser -----------------------------------------------------


@pytest.fixture
async def page_server(make_settings: Callable[..., Settings]) -> AsyncIterator[TestServer]:
    """The hub on a known port, so its public URL is the one the browser loads from."""
    sock = bound_socket()
    port: int = sock.getsockname()[1]
    settings = make_settings(server={"public_url": f"http://127.0.0.1:{port}"})
    server = TestServer(
        create_app(settings, clock=fixed_clock),
        host="127.0.0.1",
        port=port,
        socket_factory=lambda *_: sock,
    )
    await server.start_server()
    yield server
    await server.close()


async def _send(page: Page, text: str) -> None:
    await page.fill("#composer-input", text)
    await page.click("#composer-send")


async def _loaded_images(page: Page) -> list[dict[str, Any]]:
    """Every drawn image: its src, alt and whether it loaded and shows."""
    # Polled from here: the chat page's CSP (no 'unsafe-eval') forbids wait_for_function.
    async with asyncio.timeout(10):
        while not await page.evaluate(
            "[...document.querySelectorAll('#messages img')].every(i => i.complete)"
        ):
            await asyncio.sleep(0.05)
    found: list[dict[str, Any]] = await page.eval_on_selector_all(
        "#messages img",
        """imgs => imgs.map(i => ({
            src: i.getAttribute('src'), alt: i.alt, width: i.naturalWidth,
            shown: i.getBoundingClientRect().width > 0,
            inBot: !!i.closest('.msg-bot'),
            fits: i.getBoundingClientRect().width <= i.closest('.msg').clientWidth,
        }))""",
    )
    return found


async def test_web_chat_page_draws_the_qr_and_keeps_it_after_reload(
    browser: Browser, page_server: TestServer
) -> None:
    page = await browser.new_page(viewport={"width": 360, "height": 740})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(str(page_server.make_url("/chat")))
    await page.wait_for_selector('#status[data-state="open"]')
    await _send(page, "antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001")
    await page.wait_for_selector('.choice[data-payload="/affirm"]')
    await _send(page, "ya")
    await page.wait_for_selector(".msg-bot img")
    booking = await booked(page_server.app)
    expected = str(page_server.make_url(f"/media/qr/{booking.code}.png"))
    [image] = await _loaded_images(page)
    assert image == {
        "src": expected,
        "alt": booking.code,
        "width": 232,
        "shown": True,
        "inBot": True,
        "fits": True,
    }
    bubble = page.locator(".msg-bot").filter(has=page.locator("img"))
    assert f"Kode booking: {booking.code}" in await bubble.inner_text()
    await page.locator(".msg-bot img").scroll_into_view_if_needed()
    assert await page.locator(".msg-bot img").is_visible()

    await page.reload()
    await page.wait_for_selector('#status[data-state="open"]')
    assert await _loaded_images(page) == [image], "redrawn from the saved history"
    history = await page.evaluate("localStorage.getItem('omnihub.history')")
    assert expected in history
    assert dialogs == []
    await page.close()


async def test_web_chat_page_draws_no_unsafe_attachment(
    browser: Browser, page_server: TestServer
) -> None:
    page = await browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.goto(str(page_server.make_url("/chat")))
    await page.wait_for_selector('#status[data-state="open"]')
    session = await browser_visitor(page)
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    hostile = [
        "javascript:alert(1)",
        " JavaScript:alert(2)",
        "java\tscript:alert(3)",
        pixel,
        "//evil.example/qr.png",
        "blob:https://evil.example/1",
        "",
    ]
    channel = page_server.app[HUB].channels["webchat"]
    await channel.send(
        OutboundMessage(
            channel="webchat",
            recipient=session,
            text="",
            attachments=tuple(Attachment(content_type="image/png", url=u) for u in hostile),
            idempotency_key="hostile-only",
        )
    )
    same_origin = f"/media/qr/{CODE}.png"
    await channel.send(
        OutboundMessage(
            channel="webchat",
            recipient=session,
            text="Kode Anda",
            attachments=(
                *(Attachment(content_type="image/png", url=u) for u in hostile),
                Attachment(content_type="image/png", url=same_origin, filename=f"{CODE}.png"),
            ),
            idempotency_key="mixed",
        )
    )
    await page.wait_for_selector(".msg-bot img")
    [image] = await _loaded_images(page)
    assert image["src"] == str(page_server.make_url(same_origin))
    assert image["alt"] == f"{CODE}.png" and image["width"] == 232
    assert await page.locator(".msg-bot").count() == 1, "nothing drawn for an unsafe-only message"
    assert await page.locator("#messages a").count() == 0
    history = json.loads(await page.evaluate("localStorage.getItem('omnihub.history')"))
    assert not any(
        bad in json.dumps(history) for bad in ("javascript", "data:", "blob:", "evil.example")
    )
    await page.reload()
    await page.wait_for_selector('#status[data-state="open"]')
    assert [i["src"] for i in await _loaded_images(page)] == [image["src"]]
    assert dialogs == []
    await page.close()

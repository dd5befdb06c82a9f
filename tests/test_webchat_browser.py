"""The web chat page in a real browser: buttons, escaping, reload, reconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from hub.app import create_app
from hub.config import Settings
from tests.chat_client import browser_visitor

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
async def chat_url(make_settings: Callable[..., Settings]) -> AsyncIterator[str]:
    server = TestServer(create_app(make_settings()), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/chat"))
    await server.close()


async def _send(page: Page, text: str) -> None:
    await page.fill("#composer-input", text)
    await page.click("#composer-send")


async def test_conversation_with_buttons_escaping_and_reload(
    browser: Browser, chat_url: str
) -> None:
    page = await browser.new_page(viewport={"width": 400, "height": 780})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(chat_url)
    await page.wait_for_selector('#status[data-state="open"]')

    await _send(page, "halo")
    await page.wait_for_selector(".choice")
    titles = await page.locator(".choice").all_inner_texts()
    assert titles == [
        "Info layanan",
        "Ambil antrean",
        "Pengaduan (CARE)",
        "Bicara dengan petugas",
        "Langganan info",
    ]
    assert "selamat datang" in await page.locator(".msg-bot").first.inner_text()

    await page.click('.choice[data-payload="/book_queue"]')
    # Locators, not wait_for_function: the page's CSP (no 'unsafe-eval') forbids its eval.
    await page.locator(".msg-bot").nth(2).wait_for()
    assert "Ambil antrean untuk layanan apa?" in (
        await page.locator(".msg-bot").nth(2).inner_text()
    )

    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    before = await page.locator(".msg-bot").count()
    await _send(page, hostile)
    await page.locator(".msg-bot").nth(before).wait_for()
    assert await page.locator(".msg-citizen .msg-text").last.inner_text() == hostile
    assert await page.locator("#messages img").count() == 0
    assert dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "webchat.png"))

    visitor = await browser_visitor(page)
    assert visitor not in page.url and visitor not in await page.content()
    assert visitor not in await page.evaluate("document.cookie + JSON.stringify(localStorage)")
    bubbles = await page.locator(".msg").count()
    await page.reload()
    await page.wait_for_selector('#status[data-state="open"]')
    assert await browser_visitor(page) == visitor, "the same visitor after a reload"
    assert await page.locator(".msg").count() == bubbles, "history redrawn after reload"
    await _send(page, "halo")
    await page.locator(".msg-bot", has_text="Halo lagi").first.wait_for()
    assert not [line for line in console if "Content Security Policy" in line], console
    await page.close()


async def test_message_typed_offline_is_sent_after_reconnect(
    browser: Browser, chat_url: str
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(chat_url)
    await page.wait_for_selector('#status[data-state="open"]')
    await context.set_offline(True)
    await page.evaluate("window.omnihubChat.reconnect()")
    await _send(page, "menu")
    await context.set_offline(False)
    await page.evaluate("window.omnihubChat.reconnect()")
    await page.wait_for_selector(".choice", timeout=15000)
    assert await page.locator(".msg-citizen").count() == 1
    assert "Saya bisa membantu" in await page.locator(".msg-bot").last.inner_text()
    await context.close()

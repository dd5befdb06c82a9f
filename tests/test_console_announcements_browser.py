"""The announcements pages in a real browser (Debian's Chromium through Playwright): an
officer drafts with the page's form, a supervisor approves it, and the detail page's
own script brings the sent counts in while it is open. The pages are saved as
pictures; docs/ gets them only with OMNIHUB_TEST_UPDATE_DOCS=1."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page

from hub.app import HUB, create_app
from hub.config import Settings
from hub.model import utcnow
from tests.clock import Clock
from tests.test_announcements import citizen, subscribe
from tests.test_console_announcements import LONG_TEXT, channels
from tests.test_console_auth import PASSWORD
from tests.test_console_tickets import ARTIFACTS, CSP_WATCH, DOCS, add_officer


async def logged_in(
    browser: Browser, base: str, username: str, path: str
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    await context.add_init_script(CSP_WATCH)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Refused" in m.text else None)
    await page.goto(base + path)
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(base + path)
    return context, page, problems


def keep(shot_name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / shot_name)


def to_docs(shot_name: str) -> None:
    if os.environ.get("OMNIHUB_TEST_UPDATE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / shot_name, DOCS / shot_name)


async def test_an_officer_drafts_a_supervisor_approves_and_the_page_shows_it_sent(
    browser: Browser, make_settings: Callable[..., Settings]
) -> None:
    sms, whatsapp = channels()
    clock = Clock(utcnow())
    app = create_app(
        make_settings(scheduler={"enabled": False}),
        extra_channels=[sms, whatsapp],
        clock=clock,
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        hub = app[HUB]
        await add_officer(hub, clock, "made", name="Made Sudarsana")
        await add_officer(hub, clock, "ketut", "supervisor", name="Ketut Wirawan")
        for channel, sender in [
            ("sms", "+6281100000001"),
            ("sms", "+6281100000002"),
            ("whatsapp", "+6281100000003"),
        ]:
            contact = await citizen(hub, channel, sender)
            await subscribe(hub, contact, channel, sender, "jadwal")
        base = str(server.make_url("")).rstrip("/")

        officer, page, problems = await logged_in(browser, base, "made", "/console/announcements")
        await page.fill("#title", "Jam layanan paspor")
        await page.fill("#text-id", LONG_TEXT)
        await page.fill("#text-en", "From next Monday the passport counter opens at 07:30.")
        await page.check("input[name=topic][value=jadwal]")
        await page.click("#save-draft")
        await page.wait_for_url("**/console/announcements/*?ok=drafted")
        detail_path = page.url.removeprefix(base).split("?")[0]
        assert await page.locator("#announcement-status").inner_text() == "Draf"
        assert await page.locator("#approve").count() == 0
        assert "4" in await page.locator("#cost-sms").inner_text()
        assert await page.evaluate("window.__cspViolations") == []
        assert problems == [], problems
        await officer.close()

        supervisor, page, problems = await logged_in(browser, base, "ketut", detail_path)
        await page.click("#approve")
        await page.wait_for_url(f"**{detail_path}?ok=approved")
        # The page's script refreshes the counts (no reload) until all three are sent.
        await page.wait_for_function(
            "() => document.querySelector('[data-count=sent]').textContent === '3'"
            " && document.getElementById('progress').dataset.status === 'sent'",
            timeout=20_000,
        )
        assert await page.locator("#announcement-status").inner_text() == "Terkirim"
        assert await page.locator("[data-count=recipients]").inner_text() == "3"
        assert not await page.locator("#controls").is_visible()  # nothing left to pause
        await page.screenshot(path=keep("console-announcement.png"), full_page=True)
        to_docs("console-announcement.png")

        await page.goto(base + "/console/announcements")
        assert "3 / 3" in await page.locator("#announcements").inner_text()
        await page.fill("#title", "Pemadaman listrik")
        await page.fill("#text-id", "Sabtu pukul 08.00-10.00 layanan antrean daring terhenti.")
        await page.screenshot(path=keep("console-announcements.png"), full_page=True)
        to_docs("console-announcements.png")
        assert await page.evaluate("window.__cspViolations") == []
        assert problems == [], problems
        await supervisor.close()
    finally:
        await server.close()

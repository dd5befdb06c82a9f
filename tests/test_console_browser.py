"""The console's gate in a real browser (Debian's Chromium through Playwright).

What only a browser shows: SameSite=Strict still carries the cookie through the
redirect after login, the CSP lets the console's own script run, HttpOnly keeps the
cookie from scripts, and a form or fetch without the CSRF token is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from hub.app import HUB, create_app
from hub.config import Settings
from hub.console.accounts import OfficerAccounts
from hub.console.passwords import Passwords
from hub.model import utcnow

PASSWORD = "kata-sandi-rahasia-1"


@dataclass
class Site:
    base: str


@pytest.fixture
async def site(make_settings: Callable[..., Settings], db_url: str) -> AsyncIterator[Site]:
    app = create_app(make_settings(db_url))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    accounts = OfficerAccounts(app[HUB].db, Passwords(), utcnow)
    await accounts.add(
        "made",
        role="officer",
        password=PASSWORD,
        display_name="Made Sudarsana",
        known_agencies=set(),
    )
    yield Site(str(server.make_url("")).rstrip("/"))
    await server.close()


async def test_login_redirect_then_home_with_the_officers_name(
    browser: Browser, site: Site
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []
    # Load errors (the 401 of a wrong password, Chromium's /favicon.ico) are expected;
    # anything the CSP blocked is not.
    page.on("console", lambda m: problems.append(m.text) if "Refused" in m.text else None)

    await page.goto(site.base + "/console/tickets")
    assert page.url == site.base + "/console/login?next=%2Fconsole%2Ftickets"
    await page.goto(site.base + "/console/")
    assert page.url == site.base + "/console/login"
    assert await page.locator("h1").inner_text() == "Konsol Petugas"

    await page.fill("#username", "made")
    await page.fill("#password", "salah-sandinya-ini")
    await page.click("#login-submit")
    await page.wait_for_selector("#login-error")
    assert "salah" in await page.locator("#login-error").inner_text()
    assert await page.input_value("#username") == "made"

    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(site.base + "/console/")
    assert await page.locator("#officer-name").inner_text() == "Made Sudarsana"
    assert await page.locator("#officer-role").inner_text() == "Petugas"
    assert "Kotak Masuk" in await page.locator("h1").inner_text()

    (cookie,) = [c for c in await context.cookies() if c["name"] == "omnihub_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert "omnihub_console=" not in await page.evaluate("document.cookie")
    assert await page.evaluate("typeof window.omnihubConsole.csrfToken") == "function", "CSP"
    assert problems == [], problems

    await page.click("#logout")
    await page.wait_for_url(site.base + "/console/login")
    await page.goto(site.base + "/console/")
    assert page.url == site.base + "/console/login"
    await context.close()


async def test_a_form_or_fetch_without_the_csrf_token_is_refused(
    browser: Browser, site: Site
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(site.base + "/console/login")
    await page.fill("#username", "made")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(site.base + "/console/")

    status = await page.evaluate(
        """async () => (await fetch('/console/logout', {method: 'POST'})).status"""
    )
    assert status == 403
    status = await page.evaluate(
        """async () => (await fetch('/console/logout', {
            method: 'POST', headers: {'X-CSRF-Token': 'forged'}})).status"""
    )
    assert status == 403

    # A crafted form without the token, submitted like a real one.
    async with page.expect_navigation() as navigation:
        await page.evaluate(
            """() => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = '/console/logout';
                document.body.appendChild(form);
                form.submit();
            }"""
        )
    response = await navigation.value
    assert response is not None and response.status == 403
    assert "Akses ditolak" in await page.locator("h1").inner_text()

    await page.goto(site.base + "/console/")
    assert page.url == site.base + "/console/", "still logged in: nothing changed"
    # The console's own helper sends the token and so gets through.
    final = await page.evaluate(
        """async () => (await window.omnihubConsole.request('/console/logout',
            {method: 'POST'})).url"""
    )
    assert final == site.base + "/console/login"
    await page.goto(site.base + "/console/")
    assert page.url == site.base + "/console/login"
    await context.close()

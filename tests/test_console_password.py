"""An officer changes their own password in the console: current password checked (a
wrong one counts as a failed login), the new one checked, other sessions ended."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.config import Settings
from hub.store.tables import console_sessions
from tests.test_console_auth import PASSWORD, Console, open_console

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]
NEW = "sandi-baru-yang-panjang-2"


async def change(console: Console, current: str, new: str, confirm: str | None = None) -> Any:
    data = {
        "csrf_token": await console.csrf_token(),
        "current": current,
        "new": new,
        "confirm": new if confirm is None else confirm,
    }
    return await console.client.post("/console/password", data=data, allow_redirects=False)


async def login_anew(console: Console, password: str) -> int:
    """A fresh login, as on another PC: the status the login form answers."""
    console.client.session.cookie_jar.clear()
    status, _body, _response = await console.login("made", password)
    return status


async def logged_in(aiohttp_client: AiohttpClient, settings: Settings) -> Console:
    console = await open_console(aiohttp_client, settings)
    await console.add_officer("made", name="Made Sudarsana")
    status, _body, _response = await console.login("made")
    assert status == 303
    return console


async def test_the_page_is_in_the_menu_and_asks_for_all_three(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await logged_in(aiohttp_client, make_settings())
    home = await (await console.client.get("/console/")).text()
    assert 'href="/console/password"' in home
    page = await console.client.get("/console/password")
    assert page.status == 200
    text = await page.text()
    for field in ('name="current"', 'name="new"', 'name="confirm"', 'name="csrf_token"'):
        assert field in text


async def test_a_new_password_works_and_ends_the_other_sessions_only(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await logged_in(aiohttp_client, make_settings(db_url))
    other = ClientSession(
        base_url=str(console.client.make_url("")), cookie_jar=CookieJar(unsafe=True)
    )
    try:
        form = await other.get("/console/login")
        token = (await form.text()).split('name="form_token" value="')[1].split('"')[0]
        data = {"username": "made", "password": PASSWORD, "form_token": token}
        assert (await other.post("/console/login", data=data, allow_redirects=False)).status == 303
        assert await console.count(console_sessions) == 2

        response = await change(console, PASSWORD, NEW)
        assert response.status == 303
        assert response.headers["Location"] == "/console/password?ok=1"
        done = await console.client.get("/console/password?ok=1")
        assert "Kata sandi diganti" in await done.text()

        assert await console.count(console_sessions) == 1, "the other session ended"
        assert (await console.client.get("/console/")).status == 200, "this one stays"
        gone = await other.get("/console/", allow_redirects=False)
        assert gone.status == 303 and gone.headers["Location"].startswith("/console/login")
    finally:
        await other.close()
    assert await login_anew(console, PASSWORD) == 401
    assert await login_anew(console, NEW) == 303
    actions = await console.audit_actions()
    assert "password_changed" in actions


async def test_refusals_say_why_and_change_nothing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await logged_in(aiohttp_client, make_settings())
    wrong = await change(console, "bukan-sandinya-1", NEW)
    assert wrong.status == 401 and "Kata sandi saat ini salah" in await wrong.text()
    short = await change(console, PASSWORD, "pendek")
    assert short.status == 400 and "minimal 10 karakter" in await short.text()
    mismatch = await change(console, PASSWORD, NEW, confirm=NEW + "x")
    assert mismatch.status == 400 and "tidak sama" in await mismatch.text()
    same = await change(console, PASSWORD, PASSWORD)
    assert same.status == 400 and "harus berbeda" in await same.text()
    no_csrf = await console.client.post(
        "/console/password",
        data={"current": PASSWORD, "new": NEW, "confirm": NEW},
        allow_redirects=False,
    )
    assert no_csrf.status == 403
    assert await login_anew(console, PASSWORD) == 303, "the old password still works"
    assert (await console.audit_actions()).count("login_failed") == 1


async def test_guessing_the_current_password_waits_like_a_login_and_locks_nothing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        console={"login_throttle": {"per_username": {"free_failures": 2, "max_delay_seconds": 60}}}
    )
    console = await logged_in(aiohttp_client, settings)
    for attempt in range(2):
        assert (await change(console, f"tebakan-ke-{attempt}-xx", NEW)).status == 401
    refused = await change(console, PASSWORD, NEW)
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"
    assert "Terlalu banyak percobaan" in await refused.text()
    assert "login_throttled" in await console.audit_actions()
    assert (await change(console, "tebakan-lagi-xx", NEW)).status == 429, "not counted again"
    console.clock.advance(seconds=1)
    assert (await change(console, "tebakan-ke-3-xx", NEW)).status == 401
    assert (await change(console, PASSWORD, NEW)).status == 429
    assert (await console.audit_actions()).count("login_failed") == 3
    console.clock.advance(seconds=2)
    assert (await change(console, PASSWORD, NEW)).status == 303, "slowed, never locked"
    assert await login_anew(console, NEW) == 303

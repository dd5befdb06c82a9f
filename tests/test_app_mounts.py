"""The REST API and the console are applications of their own, mounted on the hub's.

Their middlewares (the API's error shape and token check, the console's session,
CSRF, error pages and security headers) run for their own paths only: a webhook
never passes through them, and they still refuse as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, make_mocked_request
from aiohttp.web import Application

from hub import api
from hub.app import HUB, create_app
from hub.config import Settings
from hub.console import CONSOLE_PREFIX
from tests.apps import mounted
from tests.clock import Clock
from tests.fakes.telegram import FakeTelegram
from tests.test_console_auth import START, Console
from tests.test_telegram import load, post, telegram_settings

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

CSP = "Content-Security-Policy"


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.close()


async def test_a_webhook_passes_through_neither_the_api_nor_the_console(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], telegram: FakeTelegram
) -> None:
    app = create_app(telegram_settings(make_settings, telegram))
    api_app, console_app = mounted(app, api.PREFIX), mounted(app, CONSOLE_PREFIX)
    assert app.middlewares and all(m not in app.middlewares for m in api_app.middlewares)
    assert all(m not in app.middlewares for m in console_app.middlewares)
    for method, path, apps in (
        ("POST", "/webhooks/telegram", []),
        ("GET", "/webhooks/telegram", []),
        ("GET", "/healthz", []),
        ("GET", "/api/v1/services", [api_app]),
        ("GET", "/api/v1/nope", [api_app]),
        ("GET", "/console", [console_app]),
        ("GET", "/console/tickets", [console_app]),
        ("GET", "/console/nope", [console_app]),
    ):
        match = await app.router.resolve(make_mocked_request(method, path))
        assert list(match.apps) == apps, (method, path)

    client = await aiohttp_client(app)
    refused = await post(client, load("text"), secret="wrong-secret")
    assert refused.status == 403, "the channel's own refusal, not the API's or the console's"
    assert CSP not in refused.headers and "WWW-Authenticate" not in refused.headers
    wrong_method = await client.get("/webhooks/telegram")
    assert wrong_method.status == 405 and wrong_method.content_type == "text/plain"
    assert CSP not in wrong_method.headers
    assert (await client.get("/healthz")).status == 200


async def test_the_api_and_the_console_refuse_as_before(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    clock = Clock(START)
    client = await aiohttp_client(create_app(make_settings(), clock=clock))
    hub = client.app[HUB]

    missing = await client.get("/api/v1/services")
    assert missing.status == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await missing.json())["error"]["code"] == "unauthorized"
    tickets_only = await hub.api_tokens.create("display", {api.Scope.TICKETS_READ})
    auth = {"Authorization": f"Bearer {tickets_only.token}"}
    scoped = await client.get("/api/v1/services", headers=auth)
    assert scoped.status == 403
    assert (await scoped.json())["error"]["scope"] == "services:read"
    unknown = await client.get("/api/v1/nope", headers=auth)
    assert unknown.status == 404 and (await unknown.json())["error"]["code"] == "not_found"
    assert CSP not in unknown.headers
    document = await client.get("/api/v1/openapi.json")
    assert document.status == 200 and CSP not in document.headers

    home = await client.get("/console", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/console/login?next=%2Fconsole"
    assert home.headers[CSP].startswith("default-src 'self'")
    script = await client.get("/console/api/inbox")
    assert script.status == 401 and (await script.json())["error"]["code"] == "unauthorized"
    assert CSP in script.headers

    console = Console(client, hub, clock)
    await console.add_officer("made")
    status, _body, _response = await console.login("made")
    assert status == 303
    at_prefix = await client.get("/console", allow_redirects=False)
    assert at_prefix.status == 301 and at_prefix.headers["Location"] == "/console/"
    assert at_prefix.headers[CSP].startswith("default-src 'self'")
    no_csrf = await client.post("/console/logout", allow_redirects=False)
    assert no_csrf.status == 403 and CSP in no_csrf.headers
    missing_page = await client.get("/console/nope")
    assert missing_page.status == 404 and missing_page.content_type == "text/html"

"""/metrics is for the scraper: listed addresses or the bearer token, 403 for the rest.

The test client always connects from 127.0.0.1; a remote scraper is simulated the way
it reaches a real deployment, through a trusted reverse proxy naming it in
X-Forwarded-For.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import ConfigError, Settings

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
TOKEN = "prom-7f3c9a1e5b2d4c6e8f0a"
SCRAPER = "10.20.30.40"


@pytest.fixture
async def behind_proxy(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> TestClient[Any, Any]:
    settings = make_settings(
        server={"trusted_proxies": ["127.0.0.1"]},
        security={"metrics_allow": ["10.20.30.0/24"], "metrics_token": TOKEN},
    )
    return await aiohttp_client(create_app(settings))


async def status(client: TestClient[Any, Any], **headers: str) -> int:
    response = await client.get("/metrics", headers=headers)
    if response.status == 200:
        assert "omnihub_inbound_messages_total" in await response.text()
    else:
        assert "omnihub_" not in await response.text()
    return response.status


async def test_an_allowed_address_reads_the_metrics(behind_proxy: TestClient[Any, Any]) -> None:
    assert await status(behind_proxy, **{"X-Forwarded-For": SCRAPER}) == 200


async def test_any_other_address_is_refused(behind_proxy: TestClient[Any, Any]) -> None:
    assert await status(behind_proxy, **{"X-Forwarded-For": "203.0.113.9"}) == 403
    # A client cannot name an allowed address: the proxy appends the real one.
    spoofed = {"X-Forwarded-For": f"{SCRAPER}, 203.0.113.9"}
    assert await status(behind_proxy, **spoofed) == 403


async def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(
    behind_proxy: TestClient[Any, Any],
) -> None:
    outside = {"X-Forwarded-For": "203.0.113.9"}
    assert await status(behind_proxy, Authorization=f"Bearer {TOKEN}", **outside) == 200
    assert await status(behind_proxy, Authorization=f"Bearer {TOKEN}x", **outside) == 403
    assert await status(behind_proxy, Authorization="Bearer ", **outside) == 403
    assert await status(behind_proxy, Authorization=f"Basic {TOKEN}", **outside) == 403


async def test_the_embedded_default_is_open_to_the_machine_itself(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    assert await status(client) == 200
    # ...but not to whoever an unannounced proxy on the same machine forwards.
    assert await status(client, **{"X-Forwarded-For": "203.0.113.9"}) == 403


def test_bad_metrics_settings_are_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="metrics_allow"):
        make_settings(security={"metrics_allow": ["not-an-address"]})
    with pytest.raises(ConfigError, match="metrics_token"):
        make_settings(security={"metrics_token": "short"})

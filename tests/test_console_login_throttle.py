"""Console logins slowed by growing waits per source address and per username, never locked.

Through the real app; the client's address comes from ``X-Forwarded-For`` with the test
client as the trusted proxy, and time from a controllable clock, so waits are tested
without sleeping. With Redis two hub apps share the counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from hub.app import HUB, create_app
from hub.config import Settings
from hub.store import audit as audit_store
from tests.clock import Clock
from tests.test_console_auth import FORM_TOKEN, PASSWORD, START, Console

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

ATTACKER = "203.0.113.9"
OFFICE = "198.51.100.7"
OFF = {"free_failures": 1000, "max_delay_seconds": 1}
"""A count that never makes anyone wait, to test the others alone."""


def throttle_settings(
    make_settings: Callable[..., Settings], url: str | None = None, **counts: Any
) -> Settings:
    throttle = {"per_address": OFF, "per_username": OFF, "per_username_everywhere": OFF, **counts}
    return make_settings(
        url,
        server={"trusted_proxies": ["127.0.0.1", "::1"]},
        console={"login_throttle": throttle},
    )


async def attempt(
    client: TestClient[Any, Any], username: str, password: str, address: str
) -> ClientResponse:
    """One login from ``address``, as a fresh browser there."""
    client.session.cookie_jar.clear()
    via = {"X-Forwarded-For": address}
    page = await client.get("/console/login", headers=via)
    token = FORM_TOKEN.search(await page.text())
    assert token is not None
    data = {"username": username, "password": password, "form_token": token.group(1)}
    return await client.post("/console/login", data=data, headers=via, allow_redirects=False)


async def open_console(aiohttp_client: AiohttpClient, settings: Settings, clock: Clock) -> Console:
    client = await aiohttp_client(create_app(settings, clock=clock))
    return Console(client, client.app[HUB], clock)


async def audit_rows(console: Console, action: str) -> list[Any]:
    async with console.hub.db.engine.connect() as conn:
        events = await audit_store.recent(conn, 500)
    return [e for e in reversed(events) if e.action == action]


async def test_an_attackers_address_waits_longer_each_time_and_the_admin_still_logs_in(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    settings = throttle_settings(
        make_settings, db_url, per_address={"free_failures": 3, "max_delay_seconds": 8}
    )
    console = await open_console(aiohttp_client, settings, Clock(START))
    admin = await console.add_officer("admin", "admin")
    client = console.client
    for _ in range(3):
        assert (await attempt(client, "admin", "tebakan-salah", ATTACKER)).status == 401
    waits = []
    for step in range(5):
        refused = await attempt(client, "admin", PASSWORD, ATTACKER)  # even the right one
        assert refused.status == 429
        assert "Terlalu banyak percobaan" in await refused.text()
        waits.append(int(refused.headers["Retry-After"]))
        again = await attempt(client, "nobody", "tebakan-salah", ATTACKER)
        assert again.status == 429, "refused tries are not counted again, any username"
        assert int(again.headers["Retry-After"]) == waits[-1]
        if step == 0:
            # Meanwhile the administrator, elsewhere, is not slowed at all.
            assert (await attempt(client, "admin", PASSWORD, OFFICE)).status == 303
        console.clock.advance(seconds=waits[-1])
        assert (await attempt(client, "admin", "tebakan-salah", ATTACKER)).status == 401
    assert waits == [1, 2, 4, 8, 8], "doubling, capped"
    assert (await attempt(client, "admin", PASSWORD, OFFICE)).status == 303

    failed = await audit_rows(console, "login_failed")
    assert len(failed) == 3 + 5 and all(e.detail["remote"] == ATTACKER for e in failed)
    throttled = await audit_rows(console, "login_throttled")
    assert len(throttled) == 5, "one entry per wait, not one per refused try"
    assert all(e.detail["remote"] == ATTACKER for e in throttled)
    assert [e.detail["retry_after"] for e in throttled] == waits
    assert {e.officer_id for e in throttled} == {admin}
    assert {e.detail["scope"] for e in throttled} == {"address"}
    assert [e.officer_id for e in await audit_rows(console, "login")] == [admin, admin]


async def test_a_guess_spread_over_many_addresses_slows_the_officer_a_little_never_locks(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = throttle_settings(
        make_settings, per_username_everywhere={"free_failures": 3, "max_delay_seconds": 30}
    )
    console = await open_console(aiohttp_client, settings, Clock(START))
    await console.add_officer("made")
    client = console.client
    botnet = [f"192.0.2.{n}" for n in range(1, 21)]
    for address in botnet:
        assert (await attempt(client, "made", "tebakan-salah", address)).status == 401
    again = await attempt(client, "made", "tebakan-salah", botnet[0])
    assert again.status == 429 and again.headers["Retry-After"] == "30", "capped low"
    # The officer from a clean address gets straight in...
    assert (await attempt(client, "made", PASSWORD, OFFICE)).status == 303
    # ...and after a typo there waits at most the low cap, then gets in.
    assert (await attempt(client, "made", "salah-ketik", "198.51.100.8")).status == 401
    slowed = await attempt(client, "made", PASSWORD, "198.51.100.8")
    assert slowed.status == 429 and int(slowed.headers["Retry-After"]) <= 30
    console.clock.advance(seconds=30)
    assert (await attempt(client, "made", PASSWORD, "198.51.100.8")).status == 303
    throttled = await audit_rows(console, "login_throttled")
    assert {e.detail["scope"] for e in throttled} == {"username_everywhere"}


async def test_one_username_from_one_address_is_slowed_gently_and_a_right_password_resets_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    settings = throttle_settings(
        make_settings, db_url, per_username={"free_failures": 2, "max_delay_seconds": 4}
    )
    console = await open_console(aiohttp_client, settings, Clock(START))
    await console.add_officer("made")
    await console.add_officer("ketut")
    client = console.client
    waits = []
    for _ in range(2):
        assert (await attempt(client, "made", "salah-ketik", OFFICE)).status == 401
    for _ in range(4):
        refused = await attempt(client, "made", PASSWORD, OFFICE)
        assert refused.status == 429
        waits.append(int(refused.headers["Retry-After"]))
        # A colleague at the same counter PC is not slowed by it.
        assert (await attempt(client, "ketut", PASSWORD, OFFICE)).status == 303
        console.clock.advance(seconds=waits[-1])
        assert (await attempt(client, "made", "salah-ketik", OFFICE)).status == 401
    assert waits == [1, 2, 4, 4]
    console.clock.advance(seconds=4)
    assert (await attempt(client, "made", PASSWORD, OFFICE)).status == 303
    assert (await attempt(client, "made", "salah-ketik", OFFICE)).status == 401
    assert (await attempt(client, "made", PASSWORD, OFFICE)).status == 303, "counts start anew"


async def test_wrong_passwords_are_forgotten_after_forget_minutes(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = throttle_settings(
        make_settings,
        per_address={"free_failures": 2, "max_delay_seconds": 900},
        forget_minutes=10,
    )
    console = await open_console(aiohttp_client, settings, Clock(START))
    await console.add_officer("made")
    client = console.client
    for wait in (0, 0, 1, 2, 4):
        console.clock.advance(seconds=wait)
        assert (await attempt(client, "made", "tebakan-salah", ATTACKER)).status == 401
    console.clock.advance(seconds=8)
    assert (await attempt(client, "made", "tebakan-salah", ATTACKER)).status == 401
    assert (await attempt(client, "made", PASSWORD, ATTACKER)).status == 429, "16 s now"
    console.clock.advance(minutes=10, seconds=1)
    assert (await attempt(client, "made", "tebakan-salah", ATTACKER)).status == 401
    assert (await attempt(client, "made", PASSWORD, ATTACKER)).status == 303, "a fresh count"


async def test_the_old_lockout_keys_are_accepted_and_lock_nobody(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(console={"max_failed_logins": 2, "lockout_minutes": 60})
    console = await open_console(aiohttp_client, settings, Clock(START))
    await console.add_officer("made")
    for _ in range(2):
        assert (await attempt(console.client, "made", "tebakan-salah", ATTACKER)).status == 401
    assert (await attempt(console.client, "made", PASSWORD, ATTACKER)).status == 303, "no lock"
    assert not await audit_rows(console, "account_locked")


async def test_two_hub_processes_share_the_login_throttle_through_redis(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    pg_url: str,
    hub_redis_url: str,
) -> None:
    settings = throttle_settings(
        make_settings, pg_url, per_address={"free_failures": 2, "max_delay_seconds": 60}
    )
    settings = settings.model_copy(
        update={"redis": settings.redis.model_copy(update={"url": hub_redis_url})}
    )
    clock = Clock(START)
    first = await open_console(aiohttp_client, settings, clock)
    second = await open_console(aiohttp_client, settings, clock)
    await first.add_officer("made")
    assert (await attempt(first.client, "made", "tebakan-salah", ATTACKER)).status == 401
    assert (await attempt(second.client, "made", "tebakan-salah", ATTACKER)).status == 401
    refused = await attempt(first.client, "made", PASSWORD, ATTACKER)
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"
    clock.advance(seconds=1)
    assert (await attempt(second.client, "made", "tebakan-salah", ATTACKER)).status == 401
    other = await attempt(first.client, "made", PASSWORD, ATTACKER)
    assert other.status == 429 and other.headers["Retry-After"] == "2", "counted in both"
    assert (await attempt(second.client, "made", PASSWORD, OFFICE)).status == 303
    assert len(await audit_rows(first, "login_throttled")) == 2

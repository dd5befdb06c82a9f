"""The officers' console gate through the real app: login, sessions, CSRF, roles, audit.

Every test that touches the store runs on SQLite and on PostgreSQL. Time comes from
a controllable clock handed to ``create_app``, so expiry is tested without sleeping.
Login throttling (growing waits, no lockout) is in test_console_login_throttle.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from argon2 import PasswordHasher

from hub.app import HUB, Hub, create_app
from hub.config import Settings
from hub.console.accounts import OfficerAccounts
from hub.console.passwords import Passwords
from hub.store import audit as audit_store
from hub.store.tables import audit_events, console_sessions, officers
from tests.clock import Clock

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

PASSWORD = "kata-sandi-rahasia-1"
AGENCIES = {"disdukcapil", "imigrasi", "dpmptsp"}
START = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
"""Where the console tests' clock starts: a Monday."""
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class Console:
    """A browser-like client of the console: keeps cookies, fills the login form."""

    def __init__(self, client: TestClient[Any, Any], hub: Hub, clock: Clock) -> None:
        self.client = client
        self.hub = hub
        self.clock = clock

    async def add_officer(
        self,
        username: str,
        role: str = "officer",
        *,
        name: str = "",
        agencies: tuple[str, ...] = (),
        password: str = PASSWORD,
    ) -> int:
        accounts = OfficerAccounts(self.hub.db, Passwords(), self.clock)
        record = await accounts.add(
            username,
            role=role,
            password=password,
            display_name=name,
            agencies=agencies,
            known_agencies=AGENCIES,
        )
        return record.id

    async def login(
        self, username: str, password: str = PASSWORD, next_: str | None = None
    ) -> tuple[int, str, Any]:
        page = await self.client.get("/console/login")
        match = FORM_TOKEN.search(await page.text())
        assert match is not None
        data = {"username": username, "password": password, "form_token": match.group(1)}
        if next_ is not None:
            data["next"] = next_
        response = await self.client.post("/console/login", data=data, allow_redirects=False)
        return response.status, await response.text(), response

    async def csrf_token(self) -> str:
        page = await self.client.get("/console/")
        assert page.status == 200
        match = META_CSRF.search(await page.text())
        assert match is not None
        return match.group(1)

    async def audit_actions(self) -> list[str]:
        async with self.hub.db.engine.connect() as conn:
            events = await audit_store.recent(conn, 100)
        return [e.action for e in reversed(events)]

    async def count(self, table: sa.Table) -> int:
        async with self.hub.db.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def open_console(
    aiohttp_client: AiohttpClient, settings: Settings, clock: Clock | None = None
) -> Console:
    clock = clock or Clock(START)
    client = await aiohttp_client(create_app(settings, clock=clock))
    return Console(client, client.app[HUB], clock)


def set_cookie_header(response: Any, name: str) -> str:
    (header,) = [h for h in response.headers.getall("Set-Cookie") if h.startswith(name + "=")]
    return str(header)


# --- passwords and login ------------------------------------------------------------------------


async def test_only_an_argon2_hash_is_stored(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made", "supervisor", name="Made Sudarsana", agencies=("imigrasi",))
    async with console.hub.db.engine.connect() as conn:
        stored = (await conn.execute(sa.select(officers))).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert Passwords().verify(stored.password_hash, PASSWORD)
    assert not Passwords().verify(stored.password_hash, PASSWORD + "x")
    assert (stored.username, stored.role, stored.active) == ("made", "supervisor", True)


async def test_login_sets_a_strict_session_cookie_and_opens_the_home_page(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("Made", name="Made Sudarsana")
    status, _body, response = await console.login("MADE ")  # names match case-insensitively
    assert status == 303 and response.headers["Location"] == "/console/"
    cookie = set_cookie_header(response, "omnihub_console")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "secure" not in attributes, "plain http in tests: no Secure flag"
    value = cookie.split(";")[0].split("=", 1)[1]
    async with console.hub.db.engine.connect() as conn:
        (row,) = (await conn.execute(sa.select(console_sessions))).all()
    assert row.token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert value not in str(tuple(row))
    assert row.expires_at - row.created_at == timedelta(hours=12)

    home = await console.client.get("/console/")
    assert home.status == 200
    html = await home.text()
    assert "Made Sudarsana" in html and "Kotak Masuk" in html and "Petugas" in html
    for href in ('href="/console/"', 'href="/console/tickets"', 'href="/console/dashboard"'):
        assert href in html
    assert "/console/audit" not in html, "the audit link is for supervisors"
    assert home.headers["Cache-Control"] == "no-store"
    assert home.headers["X-Content-Type-Options"] == "nosniff"
    assert home.headers["Referrer-Policy"] == "same-origin"
    csp = home.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert await console.audit_actions() == ["officer_created", "login"]


async def test_the_cookie_is_secure_behind_https(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(server={"public_url": "https://chat.mpp.badungkab.go.id"})
    console = await open_console(aiohttp_client, settings)
    await console.add_officer("made")
    page = await console.client.get("/console/login")
    assert "Secure" in set_cookie_header(page, "omnihub_console_login")
    # The test client speaks http, so it would not send a Secure cookie back: post by hand.
    token = FORM_TOKEN.search(await page.text())
    assert token is not None
    response = await console.client.post(
        "/console/login",
        data={"username": "made", "password": PASSWORD, "form_token": token.group(1)},
        headers={"Cookie": f"omnihub_console_login={token.group(1)}"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert "; Secure" in set_cookie_header(response, "omnihub_console")


async def test_a_hash_with_old_parameters_is_renewed_at_login(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await open_console(aiohttp_client, make_settings())
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    await OfficerAccounts(console.hub.db, weak, console.clock).add(
        "made", role="officer", password=PASSWORD, known_agencies=AGENCIES
    )
    async with console.hub.db.engine.connect() as conn:
        before = await conn.scalar(sa.select(officers.c.password_hash))
    assert Passwords().needs_rehash(str(before))
    assert (await console.login("made"))[0] == 303
    async with console.hub.db.engine.connect() as conn:
        after = str(await conn.scalar(sa.select(officers.c.password_hash)))
    assert after != before and not Passwords().needs_rehash(after)
    assert Passwords().verify(after, PASSWORD)


async def test_a_wrong_password_is_refused_and_audited(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made")
    status, body, response = await console.login("made", PASSWORD + "!")
    assert status == 401 and "omnihub_console=" not in str(response.headers.getall("Set-Cookie"))
    assert "Nama pengguna atau kata sandi salah" in body
    assert await console.count(console_sessions) == 0
    assert (await console.client.get("/console/", allow_redirects=False)).status == 303
    assert await console.audit_actions() == ["officer_created", "login_failed"]
    async with console.hub.db.engine.connect() as conn:
        (event,) = await audit_store.recent(conn, 1)
    assert event.detail["reason"] == "wrong_password" and event.detail["failures"] == 1
    assert PASSWORD not in str(event.detail)


async def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made")
    wrong = await console.login("made", "salah-sekali-lagi")
    unknown = await console.login("nobody", PASSWORD)
    answers = {
        (status, body.replace('value="made"', 'value=""').replace('value="nobody"', 'value=""'))
        for status, body, _response in (wrong, unknown)
    }
    assert len(answers) == 1 and next(iter(answers))[0] == 401
    async with console.hub.db.engine.connect() as conn:
        events = await audit_store.recent(conn, 100)
    unknown_events = [e for e in events if e.detail.get("reason") == "unknown_user"]
    assert len(unknown_events) == 1 and unknown_events[0].officer_id is None
    assert "nobody" not in str(unknown_events[0].detail), "typed usernames are not logged"


async def test_an_inactive_officer_cannot_log_in_and_loses_open_sessions(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made")
    assert (await console.login("made"))[0] == 303
    assert (await console.client.get("/console/")).status == 200
    await OfficerAccounts(console.hub.db, Passwords(), console.clock).deactivate("made")
    assert (await console.client.get("/console/", allow_redirects=False)).status == 303
    assert (await console.login("made"))[0] == 401


# --- sessions -----------------------------------------------------------------------------------


async def test_without_a_session_pages_redirect_and_scripts_get_401(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await open_console(aiohttp_client, make_settings())
    client = console.client
    home = await client.get("/console/", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/console/login"
    deep = await client.get("/console/tickets?status=open", allow_redirects=False)
    assert deep.status == 303
    assert deep.headers["Location"] == "/console/login?next=%2Fconsole%2Ftickets%3Fstatus%3Dopen"
    assert deep.headers["Cache-Control"] == "no-store"
    bare = await client.get("/console", allow_redirects=False)
    assert bare.status == 303 and bare.headers["Location"].startswith("/console/login")
    stale = await client.get(
        "/console/", headers={"Cookie": "omnihub_console=forged"}, allow_redirects=False
    )
    assert stale.status == 303 and 'omnihub_console=""' in stale.headers["Set-Cookie"]

    for path, headers in [
        ("/console/", {"X-Requested-With": "XMLHttpRequest"}),
        ("/console/tickets", {"Accept": "application/json"}),
        ("/console/events", {"Accept": "text/event-stream"}),
        ("/console/api/conversations", {}),
    ]:
        response = await client.get(path, headers=headers, allow_redirects=False)
        assert response.status == 401, path
        body = await response.json()
        assert body["error"]["code"] == "unauthorized", path
    post = await client.post("/console/logout", allow_redirects=False)
    assert post.status == 303 and post.headers["Location"] == "/console/login"

    # The rest of the hub keeps its own rules.
    api = await client.get("/api/v1/services")
    assert api.status == 401 and api.headers["WWW-Authenticate"].startswith("Bearer")
    health = await client.get("/healthz")
    assert health.status == 200 and "Content-Security-Policy" not in health.headers
    login = await client.get("/console/login")
    assert login.status == 200 and "Content-Security-Policy" in login.headers
    static = await client.get("/console/static/console.css")
    assert static.status == 200 and "no-store" not in static.headers.get("Cache-Control", "")


async def test_after_login_the_next_page_is_opened_but_never_another_site(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await open_console(aiohttp_client, make_settings())
    await console.add_officer("made")
    for next_, expected in [
        ("/console/tickets?status=open", "/console/tickets?status=open"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/chat", "/console/"),
        ("/console/login", "/console/"),
    ]:
        console.client.session.cookie_jar.clear()
        _status, _body, response = await console.login("made", next_=next_)
        assert response.headers["Location"] == expected, next_
    page = await console.client.get("/console/login?next=/console/tickets", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/console/tickets", "logged in"


async def test_a_session_ends_after_session_hours(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(
        aiohttp_client, make_settings(db_url, console={"session_hours": 2})
    )
    await console.add_officer("made")
    await console.login("made")
    console.clock.advance(hours=1, minutes=59)
    assert (await console.client.get("/console/")).status == 200
    console.clock.advance(minutes=1)
    assert (await console.client.get("/console/", allow_redirects=False)).status == 303
    await console.login("made")  # a new login removes the expired session row
    assert await console.count(console_sessions) == 1


async def test_logout_deletes_the_session(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made")
    await console.login("made")
    token = await console.csrf_token()
    response = await console.client.post(
        "/console/logout", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/console/login"
    assert 'omnihub_console=""' in set_cookie_header(response, "omnihub_console")
    assert await console.count(console_sessions) == 0
    assert (await console.client.get("/console/", allow_redirects=False)).status == 303
    assert await console.audit_actions() == ["officer_created", "login", "logout"]


# --- CSRF ---------------------------------------------------------------------------------------


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made")
    await console.login("made")
    token = await console.csrf_token()
    before = await console.count(audit_events)
    refused = [
        await console.client.post("/console/logout", data={}),
        await console.client.post("/console/logout", data={"csrf_token": token[:-1] + "x"}),
        await console.client.post("/console/logout", headers={"X-CSRF-Token": "wrong"}),
        await console.client.post("/console/logout", json={"csrf_token": token}),
    ]
    assert [r.status for r in refused] == [403, 403, 403, 403]
    assert "Akses ditolak" in await refused[0].text()
    xhr = await console.client.post(
        "/console/logout", headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert xhr.status == 403 and (await xhr.json())["error"]["code"] == "forbidden"
    assert await console.count(console_sessions) == 1
    assert await console.count(audit_events) == before
    assert (await console.client.get("/console/")).status == 200, "still logged in"
    by_header = await console.client.post(
        "/console/logout", headers={"X-CSRF-Token": token}, allow_redirects=False
    )
    assert by_header.status == 303 and await console.count(console_sessions) == 0


async def test_the_login_form_needs_its_own_token(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made")
    # As if posted from another site: no form token, no login cookie.
    response = await console.client.post(
        "/console/login", data={"username": "made", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403 and "Formulir kedaluwarsa" in await response.text()
    assert await console.count(console_sessions) == 0
    assert await console.audit_actions() == ["officer_created"]


# --- roles, audit page, escaping ----------------------------------------------------------------


async def test_an_officer_cannot_open_the_supervisors_audit_log(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await open_console(aiohttp_client, make_settings(db_url))
    await console.add_officer("made", "officer")
    await console.add_officer("ketut", "supervisor", name="Ketut Supervisor")
    await console.login("made")
    refused = await console.client.get("/console/audit")
    assert refused.status == 403 and "Akses ditolak" in await refused.text()
    as_script = await console.client.get("/console/audit", headers={"Accept": "application/json"})
    assert as_script.status == 403 and (await as_script.json())["error"]["code"] == "forbidden"

    await console.client.post("/console/logout", data={"csrf_token": await console.csrf_token()})
    await console.login("ketut")
    page = await console.client.get("/console/audit")
    assert page.status == 200
    html = await page.text()
    assert 'href="/console/audit"' in html and "Log Audit" in html
    assert "Gagal" not in html and "Keluar" in html and "made" in html
    assert html.count("<tr>") == 1 + 5  # header, 2 created, login, logout, login
    mine = await console.client.get("/console/audit?officer=1")
    assert (await mine.text()).count("<tr>") == 1 + 2


async def test_citizen_and_officer_text_is_escaped(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await open_console(aiohttp_client, make_settings())
    await console.add_officer("made", "admin", name='<script>alert("x")</script>')
    await console.login("made")
    html = await (await console.client.get("/console/")).text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    async with console.hub.db.begin() as conn:
        await audit_store.record(
            conn,
            at=console.clock.now,
            officer_id=None,
            action="<img src=x onerror=alert(1)>",
            detail={"note": "<b>hi</b>"},
        )
    audit = await (await console.client.get("/console/audit")).text()
    assert "<img src=x" not in audit and "<b>hi</b>" not in audit
    assert "&lt;img src=x onerror=alert(1)&gt;" in audit


async def test_audit_detail_never_keeps_phone_numbers_or_niks(db_url: str) -> None:
    from hub.store import Database, migrate

    db = Database.open(db_url)
    try:
        await migrate.upgrade(db)
        async with db.begin() as conn:
            await audit_store.record(
                conn,
                at=datetime.now(UTC),
                officer_id=7,
                action="ticket_note",
                target_kind="ticket",
                target_id="CARE-20261214-0001",
                detail={
                    "note": "NIK 5103012345678901, HP 0812-3456-7890 atau +6281234567890",
                    "nested": [{"phone": "081234567890"}],
                    "number": 6281234567890,
                    "ticket": "CARE-20261214-0001",
                    "status": "forwarded",
                },
            )
        async with db.engine.connect() as conn:
            (event,) = await audit_store.recent(conn, 10, officer_id=7)
    finally:
        await db.close()
    text = str(event.detail)
    for secret in ("5103012345678901", "0812-3456-7890", "6281234567890", "081234567890"):
        assert secret not in text
    assert event.detail["ticket"] == "CARE-20261214-0001" and event.detail["status"] == "forwarded"
    assert event.target_id == "CARE-20261214-0001"

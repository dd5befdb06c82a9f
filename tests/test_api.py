"""The REST API through the real app: tokens, every route, and the OpenAPI document.

Every response of these tests is checked against the document's schema for its path,
method and status (``Api.call``), so the document cannot drift from what the server
does. "Now" is Monday 14 December 2026, 07:00 WITA, as in test_booking.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import sqlalchemy as sa
import yaml
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from hub.api.openapi import document
from hub.api.scopes import Scope
from hub.api.tokens import hash_token
from hub.app import HUB, Hub, create_app
from hub.booking import Booking
from hub.catalogue import default_catalogue_path, load_catalogue
from hub.config import Settings
from hub.store.tables import api_tokens, contacts, identities
from tests.clock import Clock

AiohttpClient = Callable[[Application], Awaitable[TestClient[Any, Any]]]

WITA = ZoneInfo("Asia/Makassar")
MON, TUE, SAT = date(2026, 12, 14), date(2026, 12, 15), date(2026, 12, 19)
KTP, PASPOR = "ktp_el_baru", "paspor"  # KTP: quota 120, three sessions of 40
PHONE = "+6281234567890"
ENTRY_POINT = Path(sys.executable).parent / "omnihub"

CATALOGUE = load_catalogue(default_catalogue_path())
DOC = document(CATALOGUE)
_DOC_URI = "urn:omnihub:openapi"
_REGISTRY: Registry[Any] = Registry().with_resource(
    _DOC_URI, Resource.from_contents(DOC, default_specification=DRAFT202012)
)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check_against_document(
    template: str, method: str, status: int, body: Any, headers: Any = None
) -> None:
    """Fail unless ``body`` is what the document gives for this path, method and status."""
    operation = DOC["paths"][template][method.lower()]
    assert str(status) in operation["responses"], f"{method} {template}: {status} not documented"
    response = operation["responses"][str(status)]
    pointer = "#/" + _pointer("paths", template, method.lower(), "responses", str(status))
    if "$ref" in response:
        pointer = response["$ref"]
        response = DOC["components"]["responses"][pointer.rsplit("/", 1)[1]]
    assert "application/json" in response["content"]
    schema = {"$ref": f"{_DOC_URI}{pointer}/content/application~1json/schema"}
    validator = jsonschema.Draft202012Validator(
        schema, registry=_REGISTRY, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, f"{method} {template} {status}: {errors}"
    for name in response.get("headers", {}):
        assert headers is not None and name in headers, f"{status} without {name}"


class Api:
    """A client of the API that checks every answer against the OpenAPI document."""

    def __init__(self, client: TestClient[Any, Any], token: str | None) -> None:
        self.client = client
        self.token = token

    async def call(
        self,
        method: str,
        template: str,
        *,
        params: dict[str, str] | None = None,
        token: str | None = "default",
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> tuple[int, Any]:
        token = self.token if token == "default" else token
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.client.request(
            method, template.format(**path), params=params, headers=sent
        )
        assert response.content_type == "application/json"
        body = await response.json()
        check_against_document(template, method, response.status, body, response.headers)
        if response.status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return response.status, body

    async def get(self, template: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", template, **kwargs)

    async def post(self, template: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", template, **kwargs)


ALL_SCOPES = frozenset(Scope)


async def start(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    now: datetime | None = None,
    scopes: frozenset[Scope] = ALL_SCOPES,
) -> tuple[Hub, Api, Clock]:
    """The app and a client whose token has ``scopes`` (all of them unless told)."""
    client = await aiohttp_client(create_app(settings))
    hub = client.app[HUB]
    clock = Clock(now or datetime.combine(MON, time(7), tzinfo=WITA))
    hub.bookings.clock = clock
    hub.api_tokens.clock = clock
    new = await hub.api_tokens.create("test-suite", scopes)
    return hub, Api(client, new.token), clock


async def new_contact(hub: Hub, phone: str = PHONE) -> int:
    now = datetime.now(UTC)
    async with hub.db.begin() as conn:
        contact_id = int(
            await conn.scalar(
                sa.insert(contacts)
                .values(display_name="Made Warga", created_at=now, updated_at=now)
                .returning(contacts.c.id)
            )
            or 0
        )
        await conn.execute(
            sa.insert(identities).values(
                contact_id=contact_id, channel="whatsapp", address=phone, created_at=now
            )
        )
    return contact_id


async def book(hub: Hub, service: str, day: date, session: str, phone: str = PHONE) -> Booking:
    result = await hub.bookings.book(await new_contact(hub, phone), service, day, session, "sms")
    assert isinstance(result, Booking), result
    return result


OPERATIONS = [
    (method.upper(), path)
    for path, item in DOC["paths"].items()
    for method in item
    if path != "/api/v1/openapi.json"
]
EXAMPLE_PATH = {"id": KTP, "code": "B-7Q4M2X"}


def _example(template: str) -> dict[str, Any]:
    return {k: v for k, v in EXAMPLE_PATH.items() if "{" + k + "}" in template}


# --- the document -------------------------------------------------------------------------------


async def test_document_is_valid_openapi_and_lists_exactly_the_app_routes(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    validate_openapi(DOC)
    assert document(CATALOGUE) is not document(CATALOGUE), "built afresh for each request"
    client = await aiohttp_client(create_app(make_settings()))
    served = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    documented = {(m, p) for p, item in DOC["paths"].items() for m in (x.upper() for x in item)}
    assert served == documented
    response = await client.get("/api/v1/openapi.json")  # public: no token
    assert response.status == 200
    assert await response.json() == DOC
    for (method, path), operation in (
        ((m.upper(), p), op) for p, item in DOC["paths"].items() for m, op in item.items()
    ):
        if path != "/api/v1/openapi.json":
            success = "201" if operation["operationId"] == "createAnnouncement" else "200"
            assert {success, "401", "500"} <= set(operation["responses"]), (method, path)


# --- authentication -----------------------------------------------------------------------------


async def test_every_route_needs_a_valid_token(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings(db_url))
    revoked = await hub.api_tokens.create("old-kiosk", ALL_SCOPES)
    await hub.api_tokens.revoke("old-kiosk")
    assert len(OPERATIONS) == 15
    for method, template in OPERATIONS:
        path = _example(template)
        status, body = await api.call(method, template, token=None, **path)
        assert (status, body["error"]["code"]) == (401, "unauthorized"), (method, template)
        for bad in ("omh_wrong", "x", revoked.token, revoked.token + "x", "omh_" + "a" * 300):
            status, _ = await api.call(method, template, token=bad, **path)
            assert status == 401, (method, template, bad)
        for header in (f"Basic {api.token}", f"{api.token}", "Bearer", "Bearer  "):
            status, _ = await api.call(
                method, template, token=None, headers={"Authorization": header}, **path
            )
            assert status == 401, (method, template, header)
        status, _ = await api.call(
            method, template, token=None, headers={"Authorization": f"bearer {api.token}"}, **path
        )
        assert status != 401, (method, template)
    # Unknown API paths ask for the token first, then say 404 in the API's error shape.
    unknown = await api.client.get("/api/v1/nope")
    assert unknown.status == 401 and unknown.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = await api.client.get("/api/v1/nope", headers={"Authorization": f"Bearer {api.token}"})
    assert unknown.status == 404
    assert (await unknown.json())["error"]["code"] == "not_found"
    wrong_method = await api.client.post(
        "/api/v1/services", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert wrong_method.status == 405 and "GET" in wrong_method.headers["Allow"]
    assert (await wrong_method.json())["error"]["code"] == "method_not_allowed"
    # Outside /api/v1 nothing changed: no token needed, no JSON error shape imposed.
    assert (await api.client.get("/healthz")).status == 200


async def test_last_used_is_written_at_most_once_a_minute(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api, clock = await start(aiohttp_client, make_settings())

    async def last_used() -> datetime | None:
        (record,) = [r for r in await hub.api_tokens.list_all() if r.name == "test-suite"]
        return record.last_used_at

    assert await last_used() is None
    await api.get("/api/v1/services")
    first = await last_used()
    assert first == clock.now
    clock.now += timedelta(seconds=59)
    await api.get("/api/v1/services")
    assert await last_used() == first
    clock.now += timedelta(seconds=1)
    await api.get("/api/v1/services")
    assert await last_used() == clock.now
    # Only the hash is stored.
    async with hub.db.engine.connect() as conn:
        stored = (await conn.execute(sa.select(api_tokens))).all()
    assert api.token is not None
    assert [r.token_hash for r in stored if r.name == "test-suite"] == [hash_token(api.token)]
    assert all(api.token not in str(tuple(r)) for r in stored)


# --- services -----------------------------------------------------------------------------------


async def test_services_list_and_get(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings())
    status, body = await api.get("/api/v1/services")
    assert status == 200
    assert [s["id"] for s in body["items"]] == list(hub.catalogue.services)
    status, ktp = await api.get("/api/v1/services/{id}", id=KTP)
    assert status == 200 and ktp in body["items"]
    service = hub.catalogue.services[KTP]
    assert (ktp["queue_prefix"], ktp["daily_quota"], ktp["counter"]) == (
        "A",
        service.daily_quota,
        service.counter,
    )
    assert ktp["requirements"] == service.requirements
    status, error = await api.get("/api/v1/services/{id}", id="no_such_service")
    assert (status, error["error"]["code"]) == (404, "not_found")


async def test_a_reloaded_catalogue_is_served(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "services.yaml"
    shutil.copy(default_catalogue_path(), path)
    hub, api, _clock = await start(aiohttp_client, make_settings(catalogue={"path": str(path)}))
    document_ = yaml.safe_load(path.read_text(encoding="utf-8"))
    for raw in document_["services"]:
        if raw["id"] == KTP:
            raw["name_en"] = "Brand-new e-KTP"
            raw["daily_quota"] = 3
    path.write_text(yaml.safe_dump(document_, allow_unicode=True), encoding="utf-8")
    await hub.reload_catalogue()
    _status, ktp = await api.get("/api/v1/services/{id}", id=KTP)
    assert ktp["name_en"] == "Brand-new e-KTP"
    _status, slots = await api.get("/api/v1/slots", params={"service": KTP, "date": "2026-12-15"})
    assert sum(s["capacity"] for s in slots["items"]) == 3, "the booking rules follow"


# --- slots and bookings -------------------------------------------------------------------------


async def test_slots_and_bookings(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings(db_url))
    first = await book(hub, KTP, MON, "pagi")
    second = await book(hub, KTP, MON, "pagi", "+6281200000002")
    other = await book(hub, PASPOR, MON, "siang", "+6281200000003")
    tomorrow = await book(hub, KTP, TUE, "sore", "+6281200000004")

    status, slots = await api.get("/api/v1/slots", params={"service": KTP, "date": "2026-12-14"})
    assert status == 200 and (slots["service"], slots["date"]) == (KTP, "2026-12-14")
    by_session = {s["session"]: s for s in slots["items"]}
    assert list(by_session) == ["pagi", "siang", "sore"]
    assert (by_session["pagi"]["capacity"], by_session["pagi"]["free"]) == (40, 38)
    assert by_session["pagi"]["taken"] == 2 and by_session["pagi"]["bookable"]
    assert (by_session["pagi"]["start"], by_session["pagi"]["end"]) == ("08:00", "10:00")
    assert by_session["siang"]["free"] == 40
    _status, closed = await api.get(
        "/api/v1/slots", params={"service": KTP, "date": SAT.isoformat()}
    )
    assert closed["items"] == []

    for params in (
        {"service": KTP},
        {"date": "2026-12-14"},
        {"service": KTP, "date": "14-12-2026"},
        {"service": KTP, "date": "2026-02-30"},
        {"service": KTP, "date": "20261214"},
        {"service": KTP, "date": ""},
        {"service": "", "date": "2026-12-14"},
        {"service": "no_such_service", "date": "2026-12-14"},
    ):
        status, error = await api.get("/api/v1/slots", params=params)
        assert (status, error["error"]["code"]) == (400, "bad_request"), params

    status, day = await api.get("/api/v1/bookings", params={"date": "2026-12-14"})
    assert status == 200
    assert [b["code"] for b in day["items"]] == [first.code, second.code, other.code]
    _status, ktp_day = await api.get(
        "/api/v1/bookings", params={"date": "2026-12-14", "service": KTP}
    )
    assert [b["queue_label"] for b in ktp_day["items"]] == ["A-001", "A-002"]
    _status, empty = await api.get("/api/v1/bookings", params={"date": "2026-12-16"})
    assert empty["items"] == []
    for params in ({}, {"date": "tomorrow"}, {"date": "2026-12-14", "service": "nope"}):
        status, error = await api.get("/api/v1/bookings", params=params)
        assert (status, error["error"]["code"]) == (400, "bad_request"), params

    status, shown = await api.get("/api/v1/bookings/{code}", code=first.code)
    assert status == 200 and shown == day["items"][0]
    assert shown["service"] == KTP and shown["date"] == "2026-12-14"
    assert (shown["session"], shown["queue_number"], shown["queue_label"]) == ("pagi", 1, "A-001")
    assert (shown["status"], shown["channel"]) == ("booked", "sms")
    assert shown["created_at"].endswith("Z")
    assert "contact" not in str(shown) and "Made" not in str(shown) and "62812" not in str(shown)
    typed = first.code.lower().replace("-", "")
    assert (await api.get("/api/v1/bookings/{code}", code=typed))[1] == shown
    for code in ("B-2222222", "hello", "B-AAAAAA"):
        status, error = await api.get("/api/v1/bookings/{code}", code=code)
        assert (status, error["error"]["code"]) == (404, "not_found"), code

    # Check-in: once, only on the day, never for a cancelled booking.
    status, checked = await api.post("/api/v1/bookings/{code}/check-in", code=first.code)
    assert (status, checked["status"], checked["code"]) == (200, "checked_in", first.code)
    status, error = await api.post("/api/v1/bookings/{code}/check-in", code=first.code)
    assert (status, error["error"]["code"]) == (409, "status_conflict")
    status, error = await api.post("/api/v1/bookings/{code}/cancel", code=first.code)
    assert (status, error["error"]["code"]) == (409, "status_conflict")
    status, error = await api.post("/api/v1/bookings/{code}/check-in", code=tomorrow.code)
    assert (status, error["error"]["code"]) == (409, "wrong_day")
    for action in ("check-in", "cancel"):
        status, error = await api.post(f"/api/v1/bookings/{{code}}/{action}", code="B-2222222")
        assert (status, error["error"]["code"]) == (404, "not_found")

    # Cancel: frees the place, once.
    status, cancelled = await api.post("/api/v1/bookings/{code}/cancel", code=second.code)
    assert (status, cancelled["status"]) == (200, "cancelled")
    _status, slots = await api.get("/api/v1/slots", params={"service": KTP, "date": "2026-12-14"})
    pagi = next(s for s in slots["items"] if s["session"] == "pagi")
    assert (pagi["taken"], pagi["free"]) == (1, 39), "one place back, the checked-in one kept"
    status, error = await api.post("/api/v1/bookings/{code}/cancel", code=second.code)
    assert (status, error["error"]["code"]) == (409, "status_conflict")
    status, error = await api.post("/api/v1/bookings/{code}/check-in", code=second.code)
    assert (status, error["error"]["code"]) == (409, "status_conflict")
    _status, now_day = await api.get("/api/v1/bookings", params={"date": "2026-12-14"})
    assert [b["status"] for b in now_day["items"]] == ["checked_in", "cancelled", "booked"]


async def test_a_failure_is_a_json_500_without_details(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings())

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(hub.bookings, "list", broken)
    status, error = await api.get("/api/v1/bookings", params={"date": "2026-12-14"})
    assert (status, error["error"]["code"]) == (500, "internal_error")
    assert "secret" not in str(error) and "Traceback" not in str(error)


# --- the token command --------------------------------------------------------------------------


def run_omnihub(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=60,
        check=False,
    )


async def omnihub(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """In a thread: the app under test shares the event loop and may hold SQLite's lock."""
    return await asyncio.to_thread(run_omnihub, workdir, *args)


async def test_token_command_end_to_end(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    db = tmp_path / "tokens.db"
    (tmp_path / "config.yaml").write_text(
        f"storage:\n  url: sqlite+aiosqlite:///{db}\n", encoding="utf-8"
    )
    scopes = ("--scope", "services:read", "--scope", "bookings:read")
    created = await omnihub(tmp_path, "token", "create", "queue-display", *scopes)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.strip().splitlines()
    token = lines[-1]
    assert token.startswith("omh_") and len(token) > 40
    assert "not be shown again" in lines[-2]
    assert "bookings:read,services:read" in created.stdout
    again = await omnihub(tmp_path, "token", "create", "queue-display", *scopes)
    assert again.returncode == 2 and "exists" in again.stderr and token not in again.stdout
    assert (await omnihub(tmp_path, "token", "create", "kiosk lobby", *scopes)).returncode == 2

    client = await aiohttp_client(create_app(make_settings(f"sqlite+aiosqlite:///{db}")))
    api = Api(client, token)
    status, _body = await api.get("/api/v1/services")
    assert status == 200

    listed = await omnihub(tmp_path, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert "queue-display" in listed.stdout and "UTC" in listed.stdout
    assert "SCOPES" in listed.stdout and "bookings:read,services:read" in listed.stdout
    assert token not in listed.stdout and hash_token(token) not in listed.stdout
    assert token[4:12] not in listed.stdout and hash_token(token)[:8] not in listed.stdout

    revoked = await omnihub(tmp_path, "token", "revoke", "queue-display")
    assert revoked.returncode == 0, revoked.stderr
    status, body = await api.get("/api/v1/services")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    assert (await omnihub(tmp_path, "token", "revoke", "queue-display")).returncode == 2
    assert (await omnihub(tmp_path, "token", "revoke", "nobody")).returncode == 2
    (row,) = (await omnihub(tmp_path, "token", "list")).stdout.strip().splitlines()[1:]
    assert row.startswith("queue-display") and row.count("UTC") == 3

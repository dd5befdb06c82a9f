"""API token scopes: every route refuses a token without its scope, confidential tickets
are withheld without ``tickets:read-confidential``, old tokens keep a documented default.

Every answer is checked against the OpenAPI document (``Api.call`` and ``call`` below),
so the 403 and the redacted ticket are shapes the document promises.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from aiohttp import web

from hub.api import API, PREFIX, api_app
from hub.api.operations import ROUTE_ALLOWED, ROUTE_SCOPES
from hub.api.scopes import (
    DESCRIPTIONS,
    LEGACY_SCOPES,
    Scope,
    ScopeError,
    granted,
    parse_scopes,
)
from hub.app import HUB, Hub, create_app
from hub.care.service import TicketKind
from hub.config import Settings
from hub.store.tables import api_tokens
from tests.apps import mounted
from tests.test_api import (
    ALL_SCOPES,
    DOC,
    KTP,
    MON,
    PHONE,
    AiohttpClient,
    Api,
    book,
    check_against_document,
    new_contact,
    omnihub,
    start,
)
from tests.test_api_tickets import PHOTO, SETUP, file

ROUTES = sorted(ROUTE_SCOPES)
SECRET = {
    "category": "Pungli parkir belakang",
    "description": "Petugas parkir minta uang Rp50.000 supaya berkas cepat.",
    "incident_when": "Senin pagi jam 9",
    "incident_where": "parkir belakang gedung B",
}
NOTE = "dicek ke petugas parkir bernama Komang"
COMMENT = "terima kasih sudah ditindak"


async def token(hub: Hub, name: str, scopes: frozenset[Scope] | set[Scope]) -> str:
    return (await hub.api_tokens.create(name, frozenset(scopes))).token


async def call(
    api: Api, method: str, template: str, token: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any, Any]:
    """One request with ``token`` (and a JSON body for POST), checked against the document."""
    response = await api.client.request(
        method,
        template.format(**kwargs.pop("path", {})),
        params=kwargs.pop("params", None),
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    answer = await response.json()
    check_against_document(template, method, response.status, answer, response.headers)
    return response.status, answer, response.headers


async def confidential_ticket(hub: Hub, contact: int) -> str:
    """A confidential complaint with text in every field that can carry it, rated."""
    ticket = await file(hub, contact, confidential=True, attachments=[PHOTO], **SECRET)
    for target in ("verified", "forwarded", "in_progress", "resolved"):
        await hub.care.change_status(ticket.ticket_id, target, SETUP, NOTE)
    assert await hub.care.rate(ticket.ticket_id, contact, 5, COMMENT) is not None
    return ticket.ticket_id


def leaks(body: Any, contact: int) -> list[str]:
    """The confidential words or the reporter found anywhere in an answer."""
    text = json.dumps(body, ensure_ascii=False)
    words = (*SECRET.values(), NOTE, COMMENT, PHOTO["url"], PHOTO["caption"], PHONE)
    found = [word for word in words if word in text]
    if f'"contact_id": {contact}' in text:
        found.append(f"contact_id {contact}")
    return found


# --- every route declares its scope -------------------------------------------------------------


def test_every_route_of_the_app_and_the_document_declares_one_scope(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
        and route.resource.canonical != "/api/v1/openapi.json"
    }
    assert served == set(ROUTE_SCOPES)
    scheme = DOC["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["x-scopes"] == {s.value: DESCRIPTIONS[s] for s in Scope}
    assert all(f"`{s.value}`" in scheme["description"] for s in Scope)
    assert set(DESCRIPTIONS) == set(Scope)
    for (method, path), scope in ROUTE_SCOPES.items():
        operation = DOC["paths"][path][method.lower()]
        others = sorted(ROUTE_ALLOWED[(method, path)] - {scope})
        assert operation["security"] == [{"bearerAuth": [s.value]} for s in (scope, *others)], (
            method,
            path,
        )
        assert all(s.value in operation["description"] for s in (scope, *others))
        assert "403" in operation["responses"], (method, path)
    # One scope per route, except reading announcements: for the drafting and approving system.
    assert {k: v for k, v in ROUTE_ALLOWED.items() if len(v) > 1} == {
        ("GET", "/api/v1/announcements"): {Scope.ANNOUNCEMENTS_WRITE, Scope.ANNOUNCEMENTS_APPROVE},
        ("GET", "/api/v1/announcements/{id}"): {
            Scope.ANNOUNCEMENTS_WRITE,
            Scope.ANNOUNCEMENTS_APPROVE,
        },
    }


@pytest.mark.parametrize(("method", "template"), ROUTES)
async def test_a_token_without_the_routes_scope_gets_403_naming_it(
    aiohttp_client: AiohttpClient,
    make_settings: Callable[..., Settings],
    method: str,
    template: str,
) -> None:
    hub, api, _clock = await start(aiohttp_client, make_settings())
    hub.care.clock = hub.bookings.clock
    booking = await book(hub, KTP, MON, "pagi")
    ticket = await file(hub, await new_contact(hub, "+6281200000009"))
    draft = await hub.announcements.draft(
        text_id="Loket tutup", topics=["jadwal"], created_by="officer:1"
    )
    needed = ROUTE_SCOPES[(method, template)]
    path = {"code": booking.code}
    path["id"] = ticket.ticket_id if "/tickets/" in template else KTP
    if "/announcements/" in template:
        path["id"] = str(draft.id)
    params = {"service": KTP, "date": MON.isoformat()} if "{" not in template else None
    body: Any = None
    if template.endswith("/status"):
        body = {"status": "verified", "note": "ok"}
    elif template.endswith("/lookup"):
        body = {"nik": "5103011204850001"}
    elif template.endswith("/announcements") and method == "POST":
        body = {"topics": ["jadwal"], "text": {"id": "Libur Nyepi"}}

    # Without any scope that allows the route; the 403 names the one it needs.
    allowing = ROUTE_ALLOWED[(method, template)]
    everything_else = await token(hub, "all-but-one", ALL_SCOPES - allowing)
    status, error, headers = await call(
        api, method, template, everything_else, body, path=path, params=params
    )
    assert status == 403, error
    assert error["error"]["code"] == "insufficient_scope"
    assert error["error"]["scope"] == needed.value and needed.value in error["error"]["message"]
    assert f'scope="{needed.value}"' in headers["WWW-Authenticate"]
    assert "insufficient_scope" in headers["WWW-Authenticate"]
    # The refusal changed nothing: the booking is still booked, the ticket still received.
    after = await hub.bookings.get(booking.code)
    assert after is not None and after.status.value == "booked"
    detail = await hub.care.get(ticket.ticket_id)
    assert detail is not None and detail.ticket.status == "received"
    assert [a.status for a in await hub.announcements.recent()] == ["draft"]

    for index, scope in enumerate(sorted(allowing)):
        only_that = await token(hub, f"just-this-{index}", {scope})
        status, answer, _headers = await call(
            api, method, template, only_that, body, path=path, params=params
        )
        assert status == (201 if body and "/announcements" in template else 200), answer


async def test_a_queue_display_with_bookings_read_cannot_read_a_complaint(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, _clock = await start(
        aiohttp_client, make_settings(db_url), scopes=frozenset({Scope.BOOKINGS_READ})
    )
    hub.care.clock = hub.bookings.clock
    booking = await book(hub, KTP, MON, "pagi")
    complaint = await file(hub, await new_contact(hub, "+6281200000008"), **SECRET)
    status, day = await api.get("/api/v1/bookings", params={"date": MON.isoformat()})
    assert status == 200 and [b["code"] for b in day["items"]] == [booking.code]
    for template in ("/api/v1/tickets", "/api/v1/tickets/{id}"):
        status, error = await api.get(template, id=complaint.ticket_id)
        assert (status, error["error"]["scope"]) == (403, "tickets:read"), template
        assert SECRET["description"] not in json.dumps(error)
    status, error = await api.post("/api/v1/bookings/{code}/cancel", code=booking.code)
    assert (status, error["error"]["scope"]) == (403, "bookings:write")


async def test_an_undeclared_route_is_refused_to_every_token(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    """Fail closed: a route of the API's application that is not in the route table (added
    to the router directly) answers no token, not every token."""
    app = create_app(make_settings())

    async def undeclared(_request: web.Request) -> web.Response:
        return web.json_response({"secret": True})

    # The mounted API is frozen; another one on the same context, under /api/v1 too.
    extra = api_app(mounted(app, PREFIX)[API])
    extra.router.add_get("/undeclared", undeclared)
    app.add_subapp(PREFIX + "/extra", extra)
    client = await aiohttp_client(app)
    with pytest.raises(ScopeError):  # nor can a token be made that may do nothing
        await token(client.app[HUB], "nothing", frozenset())
    everything = await token(client.app[HUB], "everything", ALL_SCOPES)
    response = await client.get(
        "/api/v1/extra/undeclared", headers={"Authorization": f"Bearer {everything}"}
    )
    assert response.status == 403
    assert (await response.json())["error"] == {
        "code": "insufficient_scope",
        "message": "this route declares no scope, so no token may use it",
        "scope": None,
    }


# --- confidential tickets -----------------------------------------------------------------------


async def test_a_confidential_ticket_is_redacted_without_the_confidential_scope(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, clock = await start(aiohttp_client, make_settings(db_url))
    hub.care.clock = clock
    contact = await new_contact(hub)
    secret_id = await confidential_ticket(hub, contact)
    open_ticket = await file(hub, contact, description="Antrean paspor lama.")
    moving = await file(hub, contact, confidential=True, **SECRET)
    plain = await token(hub, "dashboard", {Scope.TICKETS_READ, Scope.TICKETS_WRITE})

    status, listed, _ = await call(api, "GET", "/api/v1/tickets", plain)
    assert status == 200
    by_id = {t["id"]: t for t in listed["items"]}
    shown = by_id[secret_id]
    assert (shown["confidential"], shown["redacted"]) == (True, True)
    assert shown["description"] is None and shown["category"] is None
    assert shown["incident_when"] is None and shown["incident_where"] is None
    assert shown["rating_comment"] is None and shown["rating"] == 5
    assert "contact_id" not in shown
    assert (shown["status"], shown["kind"]) == ("closed", "complaint"), "what it is stays"
    assert by_id[open_ticket.ticket_id]["redacted"] is False
    assert by_id[open_ticket.ticket_id]["description"] == "Antrean paspor lama."
    assert by_id[open_ticket.ticket_id]["contact_id"] == contact
    withheld = [t for t in listed["items"] if t["confidential"]]
    assert len(withheld) == 2 and all(t["redacted"] for t in withheld)
    assert leaks(withheld, contact) == [], "nothing of the confidential tickets in the list"

    status, one, _ = await call(api, "GET", "/api/v1/tickets/{id}", plain, path={"id": secret_id})
    assert status == 200 and one["redacted"] is True and one["attachments"] is None
    assert [e["to_status"] for e in one["history"]][:2] == ["received", "verified"]
    assert all(e["note"] is None for e in one["history"])
    assert leaks(one, contact) == []

    # A move is allowed (tickets:write) and its answer is withheld the same way.
    status, moved, _ = await call(
        api,
        "POST",
        "/api/v1/tickets/{id}/status",
        plain,
        {"status": "verified", "note": NOTE},
        path={"id": moving.ticket_id},
    )
    assert status == 200 and moved["status"] == "verified" and moved["redacted"] is True
    assert leaks(moved, contact) == []

    # With tickets:read-confidential everything is there.
    trusted = await token(
        hub, "supervisor-app", {Scope.TICKETS_READ, Scope.TICKETS_READ_CONFIDENTIAL}
    )
    status, full, _ = await call(
        api, "GET", "/api/v1/tickets/{id}", trusted, path={"id": secret_id}
    )
    assert status == 200 and full["redacted"] is False
    assert {k: full[k] for k in SECRET} == SECRET
    assert full["attachments"] == [PHOTO] and full["rating_comment"] == COMMENT
    assert full["contact_id"] == contact and full["history"][1]["note"] == NOTE
    assert full["history"][-1]["note"] == f"5/5 {COMMENT}", "the rating's note is its comment"
    status, listed, _ = await call(api, "GET", "/api/v1/tickets", trusted)
    assert {t["id"]: t for t in listed["items"]}[secret_id]["description"] == SECRET["description"]


async def test_an_anonymous_confidential_ticket_stays_without_reporter_for_every_token(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api, clock = await start(aiohttp_client, make_settings())
    hub.care.clock = clock
    contact = await new_contact(hub)
    ticket = await file(
        hub, contact, TicketKind.COMPLAINT, confidential=True, anonymous=True, **SECRET
    )
    for scopes in (
        {Scope.TICKETS_READ},
        {Scope.TICKETS_READ, Scope.TICKETS_READ_CONFIDENTIAL},
    ):
        caller = await token(hub, f"t{len(scopes)}", scopes)
        _status, one, _ = await call(
            api, "GET", "/api/v1/tickets/{id}", caller, path={"id": ticket.ticket_id}
        )
        assert "contact_id" not in one and PHONE not in json.dumps(one)
        assert one["redacted"] is (Scope.TICKETS_READ_CONFIDENTIAL not in scopes)


def test_the_document_refuses_a_redacted_ticket_that_carries_text() -> None:
    """The redacted shape is part of the schema: null text, no reporter, confidential."""
    schema = {"$ref": "#/components/schemas/Ticket"}
    validator = jsonschema.Draft202012Validator(
        {**schema, "components": DOC["components"]},
    )
    redacted: dict[str, Any] = {
        "id": "CARE-20261214-0001",
        "kind": "complaint",
        "status": "received",
        "category": None,
        "service": None,
        "agency": None,
        "description": None,
        "incident_when": None,
        "incident_where": None,
        "anonymous": False,
        "confidential": True,
        "redacted": True,
        "channel": "whatsapp",
        "created_at": "2026-12-13T23:00:00Z",
        "updated_at": "2026-12-13T23:00:00Z",
        "sla_due_at": None,
        "sla_breached": False,
        "sla_breached_at": None,
        "resolved_at": None,
        "closed_at": None,
        "rating": None,
        "rating_comment": None,
        "rated_at": None,
        "assigned_to": None,
        "needs_supervisor": False,
        "priority": "normal",
        "object": None,
        "attachments": None,
        "history": [
            {
                "at": "2026-12-13T23:00:00Z",
                "actor": "citizen",
                "kind": "status",
                "from_status": None,
                "to_status": "received",
                "note": None,
            }
        ],
    }
    assert validator.is_valid(redacted), list(validator.iter_errors(redacted))
    for wrong in (
        {**redacted, "description": SECRET["description"]},
        {**redacted, "category": "x"},
        {**redacted, "contact_id": 7},
        {**redacted, "confidential": False},
        {**redacted, "attachments": []},
        {**redacted, "history": [{**redacted["history"][0], "note": NOTE}]},
        {**redacted, "redacted": False},  # not redacted: the texts must be strings
    ):
        assert not validator.is_valid(wrong), wrong


# --- tokens made before scopes ------------------------------------------------------------------


async def test_a_token_made_before_scopes_keeps_working_without_confidential_text(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, clock = await start(aiohttp_client, make_settings(db_url))
    hub.care.clock = clock
    old = await token(hub, "old-kiosk", ALL_SCOPES)
    async with hub.db.begin() as conn:  # as migration 0008 leaves an existing row
        await conn.execute(
            sa.update(api_tokens).where(api_tokens.c.name == "old-kiosk").values(scopes=sa.null())
        )
    (record,) = [r for r in await hub.api_tokens.list_all() if r.name == "old-kiosk"]
    assert record.scopes is None
    contact = await new_contact(hub)
    secret_id = await confidential_ticket(hub, contact)
    booking = await book(hub, KTP, MON, "siang", "+6281200000007")

    for method, template, path, params in (
        ("GET", "/api/v1/services", {}, None),
        ("GET", "/api/v1/slots", {}, {"service": KTP, "date": MON.isoformat()}),
        ("GET", "/api/v1/bookings", {}, {"date": MON.isoformat()}),
        ("POST", "/api/v1/bookings/{code}/check-in", {"code": booking.code}, None),
        ("GET", "/api/v1/tickets", {}, None),
    ):
        status, _body, _ = await call(api, method, template, old, path=path, params=params)
        assert status == 200, template
    status, one, _ = await call(api, "GET", "/api/v1/tickets/{id}", old, path={"id": secret_id})
    assert status == 200 and one["redacted"] is True and leaks(one, contact) == []


def test_scopes_parse_and_the_old_default() -> None:
    assert parse_scopes(["bookings:read", "bookings:read", " services:read"]) == {
        Scope.BOOKINGS_READ,
        Scope.SERVICES_READ,
    }
    with pytest.raises(ScopeError, match="--scope") as nothing:
        parse_scopes(None)
    assert all(s.value in str(nothing.value) for s in Scope)
    with pytest.raises(ScopeError, match="unknown scope") as unknown:
        parse_scopes(["bookings:read", "tickets:admin"])
    assert "'tickets:admin'" in str(unknown.value)
    assert all(s.value in str(unknown.value) for s in Scope)
    # Scopes added after scopes existed are never granted to an old token.
    later = {
        Scope.TICKETS_READ_CONFIDENTIAL,
        Scope.BOOKINGS_APPLICANT,
        Scope.ANNOUNCEMENTS_WRITE,
        Scope.ANNOUNCEMENTS_APPROVE,
    }
    assert granted(None) == LEGACY_SCOPES == ALL_SCOPES - later
    assert granted(["tickets:read", "gone:scope"]) == {Scope.TICKETS_READ}
    assert granted([]) == frozenset()


async def test_token_create_without_or_with_unknown_scopes_says_which_to_pick(
    tmp_path: Path,
) -> None:
    db = tmp_path / "tokens.db"
    (tmp_path / "config.yaml").write_text(
        f"storage:\n  url: sqlite+aiosqlite:///{db}\n", encoding="utf-8"
    )
    bare = await omnihub(tmp_path, "token", "create", "kiosk")
    assert bare.returncode == 2 and "omh_" not in bare.stdout
    assert "--scope" in bare.stderr and all(s.value in bare.stderr for s in Scope)
    wrong = await omnihub(tmp_path, "token", "create", "kiosk", "--scope", "bookings")
    assert wrong.returncode == 2 and "unknown scope(s) 'bookings'" in wrong.stderr
    assert all(s.value in wrong.stderr for s in Scope) and "omh_" not in wrong.stdout
    made = await omnihub(
        tmp_path, "token", "create", "kiosk", "--scope", "tickets:read", "--scope", "bookings:read"
    )
    assert made.returncode == 0, made.stderr
    made = await omnihub(tmp_path, "token", "create", "legacy", "--scope", "services:read")
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(db) as conn:  # as migration 0008 leaves a token made before it
        conn.execute("UPDATE api_tokens SET scopes = NULL WHERE name = 'legacy'")
    listed = await omnihub(tmp_path, "token", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert rows["kiosk"].endswith("bookings:read,tickets:read")
    default = ",".join(sorted(s.value for s in LEGACY_SCOPES))
    assert rows["legacy"].endswith("default:" + default)
    assert "tickets:read-confidential" in rows["default:"]

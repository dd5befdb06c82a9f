"""Announcements through the REST API and the real app: drafting, refusals, who may do
what, approval and a real send to citizens on a recording channel, with the counts.

Every answer is checked against the OpenAPI document (``check_against_document``), so
the document cannot drift from the server. Waiting is a bounded poll of the API itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.api.scopes import Scope
from hub.app import HUB, Hub, create_app
from hub.config import Settings
from hub.model import utcnow
from hub.store.tables import api_tokens
from tests.test_announcements import Recorder, announcement_texts, citizen, subscribe, until
from tests.test_api import ALL_SCOPES, AiohttpClient, Api, check_against_document, omnihub

LIST, ONE, APPROVE = (
    "/api/v1/announcements",
    "/api/v1/announcements/{id}",
    ("/api/v1/announcements/{id}/approve"),
)
WRITE, READ_APPROVE = (
    frozenset({Scope.ANNOUNCEMENTS_WRITE}),
    frozenset({Scope.ANNOUNCEMENTS_APPROVE}),
)
TOPICAL: dict[str, Any] = {
    "topics": ["imigrasi"],
    "text": {"id": "Layanan paspor tutup besok.", "en": "The passport counter is closed."},
    "send_at": None,
}
ZEROS = dict.fromkeys(
    (
        "queued",
        "sending",
        "sent",
        "delivered",
        "failed",
        "skipped",
        "cancelled",
        "recipients",
        "opted_out_since",
    ),
    0,
)


async def begin(
    aiohttp_client: AiohttpClient, settings: Settings, *channels: Recorder
) -> tuple[Hub, Api]:
    """The app (started, dispatching) and a client with a token named mall-app that has
    every scope."""
    client = await aiohttp_client(create_app(settings, extra_channels=list(channels)))
    hub = client.app[HUB]
    made = await hub.api_tokens.create("mall-app", ALL_SCOPES)
    return hub, Api(client, made.token)


async def token(hub: Hub, name: str, scopes: frozenset[Scope]) -> str:
    return (await hub.api_tokens.create(name, scopes)).token


async def draft(api: Api, body: Any, *, token: str | None = "default", raw: bool = False) -> Any:
    """POST /api/v1/announcements; (status, answer), checked against the document."""
    return await send(api, "POST", LIST, body, token=token, raw=raw)


async def send(
    api: Api,
    method: str,
    template: str,
    body: Any = None,
    *,
    token: str | None = "default",
    raw: bool = False,
    **path: str,
) -> tuple[int, Any]:
    token = api.token if token == "default" else token
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else (body if raw else json.dumps(body))
    response = await api.client.request(method, template.format(**path), data=data, headers=headers)
    assert response.content_type == "application/json"
    answer = await response.json()
    check_against_document(template, method, response.status, answer, response.headers)
    return response.status, answer


# --- drafting -----------------------------------------------------------------------------------


async def test_a_draft_to_topics_or_to_the_booked_citizens(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api = await begin(aiohttp_client, make_settings())
    status, made = await draft(api, TOPICAL)
    assert status == 201, made
    assert (made["status"], made["topics"], made["audience"]) == ("draft", ["imigrasi"], None)
    assert made["text"] == TOPICAL["text"] and made["title"] == ""
    assert (made["created_by"], made["approved_by"]) == ("api:mall-app", None)
    assert made["send_at"] is None and made["recipients"] is None
    assert made["progress"] == ZEROS and made["created_at"].endswith("Z")
    stored = await hub.announcements.get(made["id"])
    assert stored is not None and stored.status == "draft" and stored.created_by == "api:mall-app"

    status, targeted = await draft(
        api,
        {
            "audience": {"service": "paspor", "date": "2026-12-10"},
            "text": {"id": "Loket paspor pindah ke lantai 2."},
            "title": "Info Imigrasi",
            "send_at": "2026-12-10T07:30:00+08:00",
        },
    )
    assert status == 201, targeted
    assert targeted["audience"] == {"date": "2026-12-10", "service": "paspor"}
    assert targeted["topics"] == [] and targeted["text"] == {
        "id": "Loket paspor pindah ke lantai 2.",
        "en": "",
    }
    assert (targeted["title"], targeted["send_at"]) == ("Info Imigrasi", "2026-12-09T23:30:00Z")
    status, by_agency = await draft(
        api,
        {"audience": {"agency": "imigrasi", "date": "2026-12-11"}, "text": {"id": "Tutup."}},
    )
    assert status == 201 and by_agency["audience"] == {"date": "2026-12-11", "agency": "imigrasi"}

    status, listed = await send(api, "GET", LIST)
    assert status == 200
    assert [a["id"] for a in listed["items"]] == [by_agency["id"], targeted["id"], made["id"]]
    status, one = await send(api, "GET", ONE, id=str(targeted["id"]))
    assert status == 200 and one == targeted
    status, limited = await api.get(LIST, params={"limit": "1"})
    assert [a["id"] for a in limited["items"]] == [by_agency["id"]]
    for limit in ("0", "201", "x", "-1", ""):
        status, error = await api.get(LIST, params={"limit": limit})
        assert (status, error["error"]["code"]) == (400, "bad_request"), limit


async def test_a_wrong_draft_is_a_400_saying_why_and_stores_nothing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api = await begin(aiohttp_client, make_settings())
    text = {"id": "Tutup"}
    audience = {"service": "paspor", "date": "2026-12-10"}
    for body, says in (
        ({}, "'text' is required"),
        ({"topics": ["imigrasi"]}, "'text' is required"),
        ({"topics": ["imigrasi"], "text": "Tutup"}, "'text' must be a JSON object"),
        ({"topics": ["imigrasi"], "text": {"en": "Closed"}}, "'text.id' is required"),
        ({"topics": ["imigrasi"], "text": {"id": "  \n"}}, "'text.id' is required"),
        ({"topics": ["imigrasi"], "text": {"id": "x" * 1601}}, "longer than 1600"),
        ({"topics": ["imigrasi"], "text": {"id": "a\u0000b"}}, "NUL"),
        ({"text": text}, "either 'topics' or"),
        ({"topics": ["imigrasi"], "audience": audience, "text": text}, "either 'topics' or"),
        ({"topics": [], "text": text}, "at least one topic"),
        ({"topics": ["nope"], "text": text}, "unknown topic(s): nope"),
        ({"audience": {**audience, "service": "nope"}, "text": text}, "unknown service: nope"),
        ({"audience": {"agency": "nope", "date": "2026-12-10"}, "text": text}, "unknown agency"),
        ({"audience": {**audience, "agency": "imigrasi"}, "text": text}, "either a 'service'"),
        ({"audience": {"service": "paspor"}, "text": text}, "'audience.date' is required"),
        ({"audience": {**audience, "date": "2026-02-30"}, "text": text}, "'audience.date'"),
        ({"topics": ["imigrasi"], "text": text, "send_at": "2026-12-10T08:00:00"}, "offset"),
        ({"topics": ["imigrasi"], "text": text, "send_at": "tomorrow"}, "offset"),
        ({"topics": ["imigrasi"], "text": text, "send_at": 1800000000}, "offset"),
        ({"topics": ["imigrasi"], "text": text, "title": "t" * 201}, "'title' is longer"),
        ({"topics": ["imigrasi"], "text": {**text, "fr": "x"}}, "unknown field(s) 'text.fr'"),
        ({"topics": ["imigrasi"], "text": text, "to": "all"}, "unknown field(s) 'to'"),
        ([], "must be a JSON object"),
    ):
        status, error = await draft(api, body)
        assert (status, error["error"]["code"]) == (400, "bad_request"), body
        assert says in error["error"]["message"], (body, error)
    status, error = await draft(api, b"{not json", raw=True)
    assert (status, error["error"]["code"]) == (400, "bad_request")
    assert await hub.announcements.recent() == []


# --- who may do what ----------------------------------------------------------------------------


async def test_every_route_refuses_who_may_not_use_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api = await begin(aiohttp_client, make_settings(db_url))
    made = await hub.announcements.draft(
        text_id="Loket tutup", topics=["jadwal"], created_by="officer:1"
    )
    writer = await token(hub, "drafting-app", WRITE)
    approver = await token(hub, "supervisor-app", READ_APPROVE)
    other = await token(hub, "everything-else", ALL_SCOPES - WRITE - READ_APPROVE)
    legacy = await token(hub, "old-kiosk", ALL_SCOPES)
    async with hub.db.begin() as conn:  # as migration 0008 leaves a token made before scopes
        await conn.execute(
            sa.update(api_tokens).where(api_tokens.c.name == "old-kiosk").values(scopes=sa.null())
        )
    revoked = await token(hub, "gone", ALL_SCOPES)
    await hub.api_tokens.revoke("gone")
    ident = str(made.id)
    routes: list[tuple[str, str, Any, set[str]]] = [
        ("POST", LIST, TOPICAL, {writer}),
        ("POST", APPROVE, None, {approver}),
        ("GET", LIST, None, {writer, approver}),
        ("GET", ONE, None, {writer, approver}),
    ]
    for method, template, body, allowed in routes:
        for nobody in (None, "omh_wrong", revoked):
            status, error = await send(api, method, template, body, token=nobody, id=ident)
            assert (status, error["error"]["code"]) == (401, "unauthorized"), (template, nobody)
        for refused in {writer, approver, other, legacy} - allowed:
            status, error = await send(api, method, template, body, token=refused, id=ident)
            assert (status, error["error"]["code"]) == (403, "insufficient_scope"), template
            needed = "announcements:approve" if template == APPROVE else "announcements:write"
            assert error["error"]["scope"] == needed
    # Nothing the refusals asked for happened: still one draft, still a draft.
    assert [(a.id, a.status) for a in await hub.announcements.recent()] == [(made.id, "draft")]
    status, error = await send(api, "GET", ONE, token=other, id=ident)
    assert "'announcements:approve'" in error["error"]["message"], "the other way in is named"
    # And each one may do its own part.
    for method, template, body, allowed in routes:
        for caller in sorted(allowed):
            status, _answer = await send(api, method, template, body, token=caller, id=ident)
            assert status in (200, 201), (template, caller)


# --- approving and sending ----------------------------------------------------------------------


async def test_approval_sends_to_the_subscribers_and_the_counts_follow(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    fake = Recorder("fake")
    hub, api = await begin(aiohttp_client, make_settings(), fake)
    ana = await citizen(hub, "fake", "ana", "halo")
    bob = await citizen(hub, "fake", "bob", "hello, good morning")
    await citizen(hub, "fake", "cici", "halo")  # never opted in
    await subscribe(hub, ana, "fake", "ana", "imigrasi")
    await subscribe(hub, bob, "fake", "bob", "imigrasi", "jadwal")
    writer = await token(hub, "drafting-app", WRITE)
    approver = await token(hub, "supervisor-app", READ_APPROVE)

    status, made = await draft(api, TOPICAL, token=writer)
    assert status == 201 and made["created_by"] == "api:drafting-app"
    assert announcement_texts(fake, "ana") == [], "nothing leaves before approval"
    ident = str(made["id"])
    status, approved = await send(api, "POST", APPROVE, token=approver, id=ident)
    assert status == 200, approved
    assert (approved["status"], approved["approved_by"]) == ("sending", "api:supervisor-app")
    assert approved["recipients"] == 2 and approved["started_at"] is not None

    async def sent() -> bool:
        _status, shown = await send(api, "GET", ONE, token=writer, id=ident)
        return bool(shown["status"] == "sent")

    await until(sent)
    _status, shown = await send(api, "GET", ONE, token=approver, id=ident)
    assert shown["progress"] == {**ZEROS, "sent": 2, "recipients": 2}
    assert shown["recipients"] == 2 and shown["finished_at"] is not None
    _status, listed = await send(api, "GET", LIST, token=writer)
    assert listed["items"] == [shown]
    assert names_nobody(shown)
    [to_ana] = announcement_texts(fake, "ana")
    [to_bob] = announcement_texts(fake, "bob")
    assert "Layanan paspor tutup besok." in to_ana
    assert "The passport counter is closed." in to_bob
    assert announcement_texts(fake, "cici") == []

    # Approved once: a second approval is a conflict and sends nothing more.
    status, error = await send(api, "POST", APPROVE, token=approver, id=ident)
    assert (status, error["error"]["code"]) == (409, "status_conflict")
    assert "only a draft" in error["error"]["message"]
    await hub.dispatcher.drain()
    assert len(announcement_texts(fake, "ana")) == 1


def names_nobody(shown: Any) -> bool:
    """An announcement's answer never names who received it."""
    text = json.dumps(shown)
    return all(who not in text for who in ('"ana"', '"bob"', "contact"))


async def test_a_draft_with_a_later_send_at_is_scheduled_not_sent(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    fake = Recorder("fake")
    hub, api = await begin(aiohttp_client, make_settings(), fake)
    ana = await citizen(hub, "fake", "ana", "halo")
    await subscribe(hub, ana, "fake", "ana", "imigrasi")
    later = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    status, made = await draft(api, {**TOPICAL, "send_at": later.isoformat()})
    assert status == 201 and made["send_at"] == later.isoformat().replace("+00:00", "Z")
    status, approved = await send(api, "POST", APPROVE, id=str(made["id"]))
    assert (status, approved["status"]) == (200, "scheduled")
    assert approved["recipients"] is None and approved["started_at"] is None
    await hub.broadcaster.drain()
    await hub.dispatcher.drain()
    assert announcement_texts(fake, "ana") == []
    status, error = await send(api, "POST", APPROVE, id=str(made["id"]))
    assert (status, error["error"]["code"]) == (409, "status_conflict")


async def test_an_unknown_announcement_is_a_404(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api = await begin(aiohttp_client, make_settings())
    made = await hub.announcements.draft(
        text_id="Loket tutup", topics=["jadwal"], created_by="officer:1"
    )
    for ident in (str(made.id + 1), "abc", "0", "-1", "9" * 30, f"{made.id}.0"):
        for method, template in (("GET", ONE), ("POST", APPROVE)):
            status, error = await send(api, method, template, id=ident)
            assert (status, error["error"]["code"]) == (404, "not_found"), (template, ident)
    found = await hub.announcements.get(made.id)
    assert found is not None and found.status == "draft"


async def test_the_served_document_lists_the_topics_in_use(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(announcements={"topics": [{"id": "banjir", "name_id": "Info banjir"}]})
    hub, api = await begin(aiohttp_client, settings)
    response = await api.client.get("/api/v1/openapi.json")
    served = await response.json()
    schemas = served["components"]["schemas"]
    topics = schemas["AnnouncementDraft"]["properties"]["topics"]["items"]["enum"]
    assert topics == [t.id for t in hub.subscriptions.topics()] and "banjir" in topics
    assert "jadwal" not in topics
    assert schemas["DraftAudience"]["properties"]["service"]["enum"] == list(hub.catalogue.services)
    status, made = await draft(api, {"topics": ["banjir"], "text": {"id": "Awas banjir."}})
    assert status == 201, made


async def test_token_create_makes_an_announcements_token(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    db = tmp_path / "tokens.db"
    (tmp_path / "config.yaml").write_text(
        f"storage:\n  url: sqlite+aiosqlite:///{db}\n", encoding="utf-8"
    )
    made = await omnihub(tmp_path, "token", "create", "info-desk", "--scope", "announcements:write")
    assert made.returncode == 0, made.stderr
    writer = made.stdout.strip().splitlines()[-1]
    helped = await omnihub(tmp_path, "token", "create", "--help")
    assert "announcements:write" in helped.stdout and "announcements:approve" in helped.stdout

    client = await aiohttp_client(create_app(make_settings(f"sqlite+aiosqlite:///{db}")))
    api = Api(client, writer)
    status, drafted = await draft(api, TOPICAL)
    assert (status, drafted["created_by"]) == (201, "api:info-desk")
    status, error = await send(api, "POST", APPROVE, id=str(drafted["id"]))
    assert (status, error["error"]["scope"]) == (403, "announcements:approve")

"""The CARE tickets of the REST API through the real app: filters, history, moves, privacy.

Every response is checked against the OpenAPI document (``Api.call`` and ``send``
below), so the document cannot drift from the server. Tickets are filed through
``CareService.file`` as the chat would file them. "Now" is Monday 14 December 2026,
07:00 WITA, as in test_api.py: the verify deadline of a ticket filed then (3 working
days) is the end of Thursday 17 December WITA, 16:00 UTC.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import jsonschema
import pytest
from multidict import MultiDict

from hub.api import API, PREFIX
from hub.app import HUB, Hub, create_app
from hub.care.access import Actor, ActorRole
from hub.care.service import TicketKind
from hub.care.status import TicketStatus
from hub.config import Settings
from hub.store.tickets import TicketRecord
from tests.apps import mounted
from tests.clock import Clock
from tests.test_api import (
    ALL_SCOPES,
    DOC,
    MON,
    PHONE,
    WITA,
    AiohttpClient,
    Api,
    check_against_document,
    new_contact,
    start,
)

LIST, ONE, MOVE = "/api/v1/tickets", "/api/v1/tickets/{id}", "/api/v1/tickets/{id}/status"
SETUP = Actor("api:setup", ActorRole.SYSTEM)
"""Who moves a test's tickets into place, straight through CareService."""
PHOTO: dict[str, Any] = {
    "content_type": "image/jpeg",
    "url": "telegram-file:AgAD-photo",
    "filename": "loket.jpg",
    "caption": "antrean loket 3",
    "size": 48213,
}


async def begin(aiohttp_client: AiohttpClient, settings: Settings) -> tuple[Hub, Api, Clock]:
    """The app with the CARE service on the same controllable clock as the API's tokens."""
    hub, api, clock = await start(aiohttp_client, settings)
    hub.care.clock = clock
    return hub, api, clock


async def file(
    hub: Hub,
    contact_id: int,
    kind: TicketKind = TicketKind.COMPLAINT,
    /,
    **details: Any,
) -> TicketRecord:
    details.setdefault("description", "Antrean KTP lama sekali, petugas tidak ada di loket.")
    return await hub.care.file(kind=kind, contact_id=contact_id, channel="whatsapp", **details)


async def send(api: Api, ticket_id: str, body: Any, *, raw: bool = False) -> tuple[int, Any]:
    """POST a status change (JSON or raw bytes); the answer checked against the document."""
    data = body if raw else json.dumps(body)
    assert api.token is not None
    response = await api.client.post(
        MOVE.format(id=ticket_id),
        data=data,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    assert response.content_type == "application/json"
    answer = await response.json()
    check_against_document(MOVE, "POST", response.status, answer, response.headers)
    return response.status, answer


async def ids(api: Api, params: Any = None) -> list[str]:
    status, body = await api.get(LIST, params=params)
    assert status == 200, (params, body)
    return [t["id"] for t in body["items"]]


# --- authentication -----------------------------------------------------------------------------


async def test_ticket_routes_need_a_valid_token(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api, _clock = await begin(aiohttp_client, make_settings())
    ticket = await file(hub, await new_contact(hub))
    revoked = await hub.api_tokens.create("old-console", ALL_SCOPES)
    await hub.api_tokens.revoke("old-console")
    calls = [("GET", LIST), ("GET", ONE), ("POST", MOVE)]
    for method, template in calls:
        for token in (None, "omh_wrong", revoked.token, "x"):
            status, body = await api.call(method, template, token=token, id=ticket.ticket_id)
            assert (status, body["error"]["code"]) == (401, "unauthorized"), (template, token)
    # A refused move changed nothing, even with a valid body.
    response = await api.client.post(
        MOVE.format(id=ticket.ticket_id),
        json={"status": "verified"},
        headers={"Authorization": f"Bearer {revoked.token}"},
    )
    assert response.status == 401
    detail = await hub.care.get(ticket.ticket_id)
    assert detail is not None and detail.ticket.status == "received" and len(detail.history) == 1
    for method, template in calls:
        status, _body = await api.call(method, template, id=ticket.ticket_id)
        assert status != 401, template


# --- listing ------------------------------------------------------------------------------------


async def test_list_with_each_filter(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, clock = await begin(aiohttp_client, make_settings(db_url))
    made = await new_contact(hub)
    ktp = await file(hub, made, service_id="ktp_el_baru")  # agency disdukcapil
    clock.now += timedelta(minutes=5)
    thanks = await file(
        hub,
        await new_contact(hub, "+6281200000002"),
        TicketKind.APPRECIATION,
        description="Petugas paspor sangat ramah.",
        service_id="paspor",
        anonymous=True,
    )
    # Friday: the two Monday tickets are past their Thursday deadline; a new one is not.
    clock.now = datetime.combine(MON + timedelta(days=4), time(9), tzinfo=WITA)
    water = await file(hub, made, agency="pdam", category="Air mati", description="Air mati.")
    await hub.care.change_status(water.ticket_id, "verified", SETUP)
    report = await hub.care.check_deadlines()
    assert {t.ticket_id for t in report.breached} == {ktp.ticket_id, thanks.ticket_id}
    newest_first = [water.ticket_id, thanks.ticket_id, ktp.ticket_id]

    assert await ids(api) == newest_first
    assert await ids(api, {"status": "received"}) == [thanks.ticket_id, ktp.ticket_id]
    assert await ids(api, {"status": "verified"}) == [water.ticket_id]
    assert await ids(api, {"status": "closed"}) == []
    assert await ids(api, {"status": "received,verified"}) == newest_first
    assert await ids(api, {"status": " verified , received"}) == newest_first
    repeated = MultiDict([("status", "verified"), ("status", "received")])
    assert await ids(api, repeated) == newest_first
    assert await ids(api, {"agency": "disdukcapil"}) == [ktp.ticket_id]
    assert await ids(api, {"agency": "pdam"}) == [water.ticket_id]
    assert await ids(api, {"agency": "bpn"}) == []
    assert await ids(api, {"kind": "appreciation"}) == [thanks.ticket_id]
    assert await ids(api, {"kind": "complaint"}) == [water.ticket_id, ktp.ticket_id]
    assert await ids(api, {"breached": "true"}) == [thanks.ticket_id, ktp.ticket_id]
    assert await ids(api, {"breached": "false"}) == [water.ticket_id]
    assert await ids(api, {"status": "received", "agency": "imigrasi"}) == [thanks.ticket_id]
    assert await ids(api, {"kind": "complaint", "breached": "true"}) == [ktp.ticket_id]
    assert await ids(api, {"limit": "1"}) == [water.ticket_id]
    assert await ids(api, {"limit": "2", "offset": "1"}) == newest_first[1:]
    assert await ids(api, {"offset": "3"}) == []
    assert await ids(api, {"limit": "500", "offset": "0"}) == newest_first

    _status, listed = await api.get(LIST)
    shown = {t["id"]: t for t in listed["items"]}
    first = shown[ktp.ticket_id]
    assert (first["kind"], first["status"], first["service"], first["agency"]) == (
        "complaint",
        "received",
        "ktp_el_baru",
        "disdukcapil",
    )
    assert first["category"] == hub.catalogue.services["ktp_el_baru"].name_id
    assert first["created_at"] == "2026-12-13T23:00:00Z"
    assert first["sla_due_at"] == "2026-12-17T16:00:00Z", "end of Thursday, WITA"
    assert first["sla_breached"] is True and first["needs_supervisor"] is True
    assert first["sla_breached_at"] == "2026-12-18T01:00:00Z"
    assert first["contact_id"] == made and "contact_id" not in shown[thanks.ticket_id]
    assert shown[water.ticket_id]["sla_breached"] is False
    assert shown[water.ticket_id]["sla_breached_at"] is None
    assert all("history" not in t and "attachments" not in t for t in listed["items"])
    assert PHONE not in json.dumps(listed) and "Made Warga" not in json.dumps(listed)

    for params in (
        {"status": "open"},
        {"status": ""},
        {"status": "received,"},
        {"status": "RECEIVED"},
        {"kind": "complaints"},
        {"kind": ""},
        {"breached": "yes"},
        {"breached": "1"},
        {"breached": "True"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"limit": "-1"},
        {"limit": "1.5"},
        {"limit": "١٠"},
        {"offset": "-1"},
        {"offset": "1000001"},
        {"offset": "99999999999999999999"},
        {"agency": ""},
        {"agency": "dis dukcapil"},
        {"agency": "x" * 65},
    ):
        status, error = await api.get(LIST, params=params)
        assert (status, error["error"]["code"]) == (400, "bad_request"), params


# --- one ticket ---------------------------------------------------------------------------------


async def test_get_one_with_attachments_and_history(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, clock = await begin(aiohttp_client, make_settings(db_url))
    ticket = await file(
        hub,
        await new_contact(hub),
        service_id="ktp_el_baru",
        incident_when="tadi pagi",
        incident_where="loket 3",
        confidential=True,
        attachments=[PHOTO],
    )
    assert ticket.ticket_id == "CARE-20261214-0001"
    clock.now += timedelta(hours=2)
    await hub.care.change_status(ticket.ticket_id, "verified", SETUP, "lengkap")

    status, shown = await api.get(ONE, id=ticket.ticket_id)
    assert status == 200
    assert (shown["id"], shown["status"], shown["confidential"]) == (
        ticket.ticket_id,
        "verified",
        True,
    )
    assert shown["description"] == ticket.description, "API callers read confidential content"
    assert (shown["incident_when"], shown["incident_where"]) == ("tadi pagi", "loket 3")
    assert shown["updated_at"] == "2026-12-14T01:00:00Z"
    assert shown["attachments"] == [PHOTO]
    assert shown["history"] == [
        {
            "at": "2026-12-13T23:00:00Z",
            "actor": "citizen",
            "kind": "status",
            "from_status": None,
            "to_status": "received",
            "note": "",
        },
        {
            "at": "2026-12-14T01:00:00Z",
            "actor": "api:setup",
            "kind": "status",
            "from_status": "received",
            "to_status": "verified",
            "note": "lengkap",
        },
    ]
    for spelling in ("care-20261214-0001", "CARE202612140001", "CARE-20261214-1"):
        assert (await api.get(ONE, id=spelling)) == (200, shown), spelling
    for unknown in (
        "CARE-20261214-0002",
        "CARE-20261399-0001",
        "CARE-20261214-0000",
        "CARE-20261214-00001",
        "x CARE-20261214-0001",
        "B-7Q4M2X",
        "hello",
    ):
        status, error = await api.get(ONE, id=unknown)
        assert (status, error["error"]["code"]) == (404, "not_found"), unknown


async def test_an_anonymous_ticket_carries_no_contact(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    hub, api, _clock = await begin(aiohttp_client, make_settings())
    contact = await new_contact(hub)
    named = await file(hub, contact)
    anonymous = await file(hub, contact, anonymous=True)
    _status, with_contact = await api.get(ONE, id=named.ticket_id)
    _status, without = await api.get(ONE, id=anonymous.ticket_id)
    assert with_contact["contact_id"] == contact and with_contact["anonymous"] is False
    assert without["anonymous"] is True and "contact_id" not in without
    _status, listed = await api.get(LIST)
    by_id = {t["id"]: t for t in listed["items"]}
    assert "contact_id" not in by_id[anonymous.ticket_id]
    assert by_id[named.ticket_id]["contact_id"] == contact
    for body in (with_contact, without, listed):
        assert PHONE not in json.dumps(body) and "Made Warga" not in json.dumps(body)
    # The document says the same: a contact on an anonymous ticket would not validate,
    # nor a named ticket without one.
    with pytest.raises(AssertionError, match="contact_id"):
        check_against_document(ONE, "GET", 200, {**without, "contact_id": contact})
    with pytest.raises(AssertionError, match="contact_id"):
        check_against_document(
            ONE, "GET", 200, {k: v for k, v in with_contact.items() if k != "contact_id"}
        )


# --- moves --------------------------------------------------------------------------------------


async def test_status_changes_and_illegal_transitions(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, clock = await begin(aiohttp_client, make_settings(db_url))
    contact = await new_contact(hub)
    ticket = await file(hub, contact, service_id="ktp_el_baru")
    tid = ticket.ticket_id

    clock.now += timedelta(minutes=30)
    status, moved = await send(api, tid, {"status": "verified", "note": "data lengkap"})
    assert (status, moved["status"]) == (200, "verified")
    assert moved["history"][-1] == {
        "at": "2026-12-13T23:30:00Z",
        "actor": "api:test-suite",
        "kind": "status",
        "from_status": "received",
        "to_status": "verified",
        "note": "data lengkap",
    }
    assert moved["updated_at"] == "2026-12-13T23:30:00Z"
    assert (await api.get(ONE, id=tid)) == (200, moved)

    # Illegal: 409 with where the ticket is and where it may go; nothing changes.
    status, error = await send(api, tid, {"status": "resolved"})
    assert status == 409
    assert error["error"]["code"] == "illegal_transition"
    assert (error["error"]["status"], error["error"]["allowed"]) == (
        "verified",
        ["forwarded", "rejected"],
    )
    status, error = await send(api, tid, {"status": "verified"})
    assert (status, error["error"]["status"]) == (409, "verified"), "no move to itself"
    assert (await api.get(ONE, id=tid)) == (200, moved)

    # A rejection without a reason is a bad request (400), refused before the ticket is read.
    for body in ({"status": "rejected"}, {"status": "rejected", "note": " \n\t"}):
        status, error = await send(api, tid, body)
        assert (status, error["error"]["code"]) == (400, "bad_request"), body
        assert "reason" in error["error"]["message"]
    status, error = await send(api, "CARE-20261214-0099", {"status": "rejected"})
    assert status == 400
    assert (await api.get(ONE, id=tid)) == (200, moved)

    # Through the procedure to the end; a closed ticket may go nowhere.
    for target in ("forwarded", "in_progress", "resolved", "closed"):
        clock.now += timedelta(hours=1)
        status, moved = await send(api, tid, {"status": target})
        assert (status, moved["status"]) == (200, target), target
    assert moved["resolved_at"] is not None and moved["closed_at"] == "2026-12-14T03:30:00Z"
    assert moved["sla_due_at"] is None
    assert [e["to_status"] for e in moved["history"]] == [
        "received",
        "verified",
        "forwarded",
        "in_progress",
        "resolved",
        "closed",
    ]
    status, error = await send(api, tid, {"status": "in_progress"})
    assert status == 409
    assert (error["error"]["status"], error["error"]["allowed"]) == ("closed", [])

    # Rejecting with a reason, the longest note allowed; from received it is allowed.
    other = await file(hub, contact)
    reason = "Bukan wewenang MPP. " + "x" * 1980
    status, rejected = await send(
        api, other.ticket_id.lower(), {"status": "rejected", "note": reason}
    )
    assert (status, rejected["status"], rejected["history"][-1]["note"]) == (
        200,
        "rejected",
        reason,
    )
    assert rejected["closed_at"] is not None and rejected["sla_due_at"] is None

    # Unknown tickets: 404, after the body was found well-formed.
    for unknown in ("CARE-20261214-0099", "nope"):
        status, error = await send(api, unknown, {"status": "verified"})
        assert (status, error["error"]["code"]) == (404, "not_found"), unknown


async def test_malformed_status_changes_are_400(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    hub, api, _clock = await begin(aiohttp_client, make_settings(db_url))
    ticket = await file(hub, await new_contact(hub))
    for body, raw in (
        (b"", True),
        (b"status=verified", True),
        (b'{"status": "verified"', True),
        (b"\xff\xfe", True),
        (b"[" * 100_000, True),
        ([], False),
        ("verified", False),
        (None, False),
        ({}, False),
        ({"note": "x"}, False),
        ({"status": "open"}, False),
        ({"status": "VERIFIED"}, False),
        ({"status": 5}, False),
        ({"status": None}, False),
        ({"status": "verified", "note": 5}, False),
        ({"status": "verified", "note": None}, False),
        ({"status": "verified", "note": "x" * 2001}, False),
        ({"status": "verified", "note": "a\x00b"}, False),
        ({"status": "verified", "note": "\ud800"}, False),
        ({"status": "verified", "reason": "typo"}, False),
    ):
        status, error = await send(api, ticket.ticket_id, body, raw=raw)
        assert (status, error["error"]["code"]) == (400, "bad_request"), body
    detail = await hub.care.get(ticket.ticket_id)
    assert detail is not None and detail.ticket.status == "received" and len(detail.history) == 1


async def test_without_care_the_ticket_routes_answer_503(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    app = create_app(make_settings())
    api_app = mounted(app, PREFIX)
    api_app[API] = dataclasses.replace(api_app[API], care=None)
    client = await aiohttp_client(app)
    api = Api(client, (await client.app[HUB].api_tokens.create("display", ALL_SCOPES)).token)
    for method, template in (("GET", LIST), ("GET", ONE), ("POST", MOVE)):
        status, error = await api.call(method, template, id="CARE-20261214-0001")
        assert (status, error["error"]["code"]) == (503, "care_unavailable"), template


def test_the_document_lists_the_statuses_of_the_procedure() -> None:
    """The enums in the document are the domain's own, so a new status shows up in both."""
    schemas = DOC["components"]["schemas"]
    assert schemas["Ticket"]["properties"]["status"]["enum"] == [s.value for s in TicketStatus]
    assert schemas["StatusChange"]["properties"]["status"]["enum"] == [
        s.value for s in TicketStatus
    ]
    validator = jsonschema.Draft202012Validator(schemas["StatusChange"])
    assert validator.is_valid({"status": "rejected", "note": "bukan wewenang"})
    assert not validator.is_valid({"status": "rejected"})
    assert not validator.is_valid({"status": "rejected", "note": "  "})
    assert not validator.is_valid({"status": "verified", "note": "x" * 2001})
    assert not validator.is_valid({"status": "verified", "extra": 1})
    assert validator.is_valid({"status": "verified"})


# --- for the Schemathesis run -------------------------------------------------------------------


async def seed_tickets(hub: Hub) -> list[str]:
    """Tickets in most shapes the API can show, on the hub's own clock: anonymous and
    named, with an attachment, breached, rated and closed. Returns their ids."""
    contact = await new_contact(hub)
    named = await file(hub, contact, service_id="ktp_el_baru", attachments=[PHOTO])
    anonymous = await file(hub, contact, TicketKind.APPRECIATION, agency="imigrasi", anonymous=True)
    clock = hub.care.clock
    hub.care.clock = lambda: clock() + timedelta(days=30)
    try:
        await hub.care.check_deadlines()  # both past their deadline
    finally:
        hub.care.clock = clock
    rated = await file(hub, contact, confidential=True, incident_where="parkir")
    for target in ("verified", "forwarded", "in_progress", "resolved"):
        await hub.care.change_status(rated.ticket_id, target, SETUP, "ok")
    assert await hub.care.rate(rated.ticket_id, contact, 5, "cepat") is not None
    return [named.ticket_id, anonymous.ticket_id, rated.ticket_id]

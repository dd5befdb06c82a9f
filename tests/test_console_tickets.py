"""The console's CARE tickets through the real app: filters, who sees what, actions, audit.

Tickets are filed through ``CareService`` as the chat files them. "Now" starts on
Monday 14 December 2026, 08:00 WITA (the console tests' clock); a ticket filed then
must be verified by the end of Thursday 17 December, so on Friday it is breached.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from hub.app import HUB, Hub, create_app
from hub.care.access import SYSTEM
from hub.care.service import TicketKind
from hub.config import Settings
from hub.console.accounts import OfficerAccounts
from hub.console.passwords import Passwords
from hub.store import audit as audit_store
from hub.store.tables import contacts, identities
from hub.store.tickets import TicketRecord
from tests.clock import Clock
from tests.test_console_auth import PASSWORD, START, AiohttpClient, Console, open_console

WITA = ZoneInfo("Asia/Makassar")
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
ROW_ID = re.compile(r'<tr data-ticket="([^"]+)"')
KTP, PASPOR = "ktp_el_baru", "paspor"  # disdukcapil, imigrasi
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS = Path(__file__).parent.parent / "docs"


def settings_for(make_settings: Callable[..., Settings], url: str | None = None) -> Settings:
    """No scheduler: the tests mark SLA breaches themselves, at the time they choose."""
    return make_settings(url, scheduler={"enabled": False})


async def start(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], url: str | None = None
) -> Console:
    return await open_console(aiohttp_client, settings_for(make_settings, url))


async def new_contact(
    hub: Hub, name: str = "Made Warga", phone: str = "+6281234567890", channel: str = "whatsapp"
) -> int:
    now = datetime.now(UTC)
    async with hub.db.begin() as conn:
        contact_id = int(
            await conn.scalar(
                sa.insert(contacts)
                .values(display_name=name, created_at=now, updated_at=now)
                .returning(contacts.c.id)
            )
            or 0
        )
        await conn.execute(
            sa.insert(identities).values(
                contact_id=contact_id, channel=channel, address=phone, created_at=now
            )
        )
    return contact_id


async def file(
    hub: Hub, contact_id: int, kind: TicketKind = TicketKind.COMPLAINT, **details: Any
) -> TicketRecord:
    details.setdefault("description", "Antrean KTP lama sekali, petugas tidak ada di loket.")
    details.setdefault("service_id", KTP)
    details.setdefault("channel", "whatsapp")
    return await hub.care.file(kind=kind, contact_id=contact_id, **details)


async def add_officer(
    hub: Hub, clock: Clock, username: str, role: str = "officer", name: str = ""
) -> int:
    """An account without a test client (for a browser test's server)."""
    accounts = OfficerAccounts(hub.db, Passwords(), clock)
    record = await accounts.add(
        username, role=role, password=PASSWORD, display_name=name, known_agencies=set()
    )
    return record.id


async def advance(
    hub: Hub, ticket_id: str, *statuses: str, note: str = "Diperiksa petugas."
) -> None:
    """Move a ticket through ``statuses`` as the system would (no console involved)."""
    for status in statuses:
        await hub.care.change_status(ticket_id, status, SYSTEM, note)


async def switch(console: Console, username: str) -> None:
    """Log out by forgetting the cookie, then log in as ``username``."""
    console.client.session.cookie_jar.clear()
    status, _body, _response = await console.login(username)
    assert status == 303


async def page(console: Console, path: str, expect: int = 200) -> str:
    response = await console.client.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == expect, (path, response.status, text[:500])
    return text


async def csrf(console: Console) -> str:
    match = META_CSRF.search(await page(console, "/console/tickets"))
    assert match is not None
    return match.group(1)


async def post(console: Console, path: str, data: dict[str, str], *, token: bool = True) -> Any:
    form = dict(data)
    if token:
        form["csrf_token"] = await csrf(console)
    return await console.client.post(path, data=form, allow_redirects=False)


async def listed(console: Console, query: str = "") -> list[str]:
    return ROW_ID.findall(await page(console, "/console/tickets" + query))


async def current(hub: Hub, ticket_id: str) -> tuple[str, int, int | None]:
    """(status, history length, assigned officer) as stored."""
    detail = await hub.care.get(ticket_id)
    assert detail is not None
    return detail.ticket.status, len(detail.history), detail.ticket.assigned_to


async def audit_events(hub: Hub) -> list[audit_store.AuditEventRecord]:
    async with hub.db.engine.connect() as conn:
        return list(reversed(await audit_store.recent(conn, 200)))


# --- the list ------------------------------------------------------------------------------


async def test_the_list_filters_by_status_kind_agency_and_breach(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub, clock = console.hub, console.clock
    made = await new_contact(console.hub)
    ktp = await file(hub, made)
    thanks = await file(
        hub, made, TicketKind.APPRECIATION, description="Petugas ramah.", service_id=PASPOR
    )
    verified = await file(hub, made)
    await advance(hub, verified.ticket_id, "verified")
    # Friday: the three Monday tickets are past their Thursday deadline; a new one is not.
    clock.now = datetime.combine(clock.now.date() + timedelta(days=4), time(9), WITA)
    await hub.care.check_deadlines()
    fresh = await file(hub, made, service_id=PASPOR)
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")

    newest_first = [fresh.ticket_id, verified.ticket_id, thanks.ticket_id, ktp.ticket_id]
    assert await listed(console) == newest_first
    assert await listed(console, "?status=verified") == [verified.ticket_id]
    assert await listed(console, "?status=verified&status=received") == newest_first
    assert await listed(console, "?kind=appreciation") == [thanks.ticket_id]
    assert await listed(console, "?agency=imigrasi") == [fresh.ticket_id, thanks.ticket_id]
    assert await listed(console, "?breached=1") == newest_first[1:]
    assert await listed(console, "?breached=0") == [fresh.ticket_id]
    assert await listed(console, "?status=received&agency=disdukcapil&breached=1") == [
        ktp.ticket_id
    ]
    assert await listed(console, "?status=closed") == []

    text = await page(console, "/console/tickets?breached=1")
    assert text.count('class="badge late">terlambat<') == 3
    assert "Diverifikasi" in text and "Pengaduan" in text and "Apresiasi" in text
    assert "18-12-2026 00:00" in text, "the deadline (end of Thursday), in WITA"
    # The chosen filters stay chosen in the form.
    assert 'value="1" selected' in text
    for bad in ("?status=open", "?kind=x", "?agency=nowhere", "?breached=yes", "?page=0"):
        await page(console, "/console/tickets" + bad, expect=400)


async def test_the_list_pages_through_many_tickets(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await start(aiohttp_client, make_settings)
    made = await new_contact(console.hub)
    filed = [await file(console.hub, made) for _ in range(52)]
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    first = await page(console, "/console/tickets?status=received")
    assert len(ROW_ID.findall(first)) == 50
    assert 'href="/console/tickets?status=received&amp;page=2"' in first
    second = ROW_ID.findall(await page(console, "/console/tickets?status=received&page=2"))
    assert second == [t.ticket_id for t in filed[:2]][::-1]


# --- who sees what -------------------------------------------------------------------------


async def test_an_officer_of_one_agency_sees_only_its_tickets(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    made = await new_contact(hub)
    ktp = await file(hub, made)
    paspor = await file(hub, made, service_id=PASPOR, description="Paspor tertunda.")
    await console.add_officer("made", agencies=("disdukcapil",))
    await switch(console, "made")

    assert await listed(console) == [ktp.ticket_id]
    assert await listed(console, "?agency=imigrasi") == []
    text = await page(console, "/console/tickets")
    assert '<option value="imigrasi"' not in text, "only their agencies are offered"
    await page(console, f"/console/tickets/{ktp.ticket_id}")
    missing = await page(console, f"/console/tickets/{paspor.ticket_id}", expect=404)
    assert "Paspor tertunda" not in missing
    await page(console, "/console/tickets/CARE-20261214-0999", expect=404)
    for action, data in [
        ("status", {"status": "verified", "note": ""}),
        ("assign", {"officer_id": "1"}),
        ("note", {"note": "coba"}),
    ]:
        response = await post(console, f"/console/tickets/{paspor.ticket_id}/{action}", data)
        assert response.status == 404, action
    assert await current(hub, paspor.ticket_id) == ("received", 1, None)


async def test_an_anonymous_complaint_shows_nobody_who_filed_it(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    hidden = await new_contact(hub, "Ni Luh Rahasiawati", "+6281299998888")
    named = await new_contact(hub, "Komang Terbuka", "+6281277776666")
    anonymous = await file(hub, hidden, anonymous=True, description="Ada pungutan liar.")
    open_ = await file(hub, named, description="Loket tutup lebih awal.")
    await console.add_officer("made")
    await console.add_officer("ketut", "supervisor")

    for who in ("made", "ketut"):
        await switch(console, who)
        text = await page(console, f"/console/tickets/{anonymous.ticket_id}")
        assert "Ada pungutan liar." in text, "the complaint itself is read"
        assert "Anonim: identitas pelapor tidak ditampilkan" in text
        for trace in ("Ni Luh", "Rahasiawati", "99998888", "81299998888", "6281299998888"):
            assert trace not in text, (who, trace)
        assert 'id="reporter"' in text
        listing = await page(console, "/console/tickets")
        assert "Rahasiawati" not in listing and "99998888" not in listing

    await switch(console, "made")
    text = await page(console, f"/console/tickets/{open_.ticket_id}")
    assert "Komang Terbuka" in text and "WhatsApp" in text
    assert "•••• 6666" in text, "the number cut to its last four digits"
    assert "77776666" not in text and "81277776666" not in text


async def test_a_confidential_ticket_is_content_for_supervisors_only(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    citizen = await new_contact(hub, "Wayan Pelapor", "+6281255554444")
    secret = await file(
        hub,
        citizen,
        confidential=True,
        description="Petugas loket 3 meminta uang tambahan.",
        incident_where="Loket 3 Disdukcapil",
        attachments=[
            {
                "content_type": "image/jpeg",
                "url": "https://bukti.example/foto.jpg",
                "filename": "bukti-pungli.jpg",
                "caption": "struk",
            }
        ],
    )
    await console.add_officer("ketut", "supervisor", name="Ketut Supervisor")
    await console.add_officer("made", name="Made Petugas")
    await switch(console, "ketut")
    response = await post(
        console, f"/console/tickets/{secret.ticket_id}/note", {"note": "Sudah dicek CCTV."}
    )
    assert response.status == 303

    await switch(console, "made")
    text = await page(console, f"/console/tickets/{secret.ticket_id}")
    assert "Isi rahasia — hanya untuk supervisor" in text
    for content in (
        "meminta uang tambahan",
        "Loket 3 Disdukcapil",
        "bukti-pungli",
        "bukti.example",
        "Sudah dicek CCTV",
        "Wayan Pelapor",
        "55554444",
    ):
        assert content not in text, content
    assert 'id="status-form"' not in text and 'id="note-form"' not in text
    assert "Ketut Supervisor" in text, "the history still says who did what, and when"
    response = await post(console, f"/console/tickets/{secret.ticket_id}/note", {"note": "x"})
    assert response.status == 403
    response = await post(
        console, f"/console/tickets/{secret.ticket_id}/status", {"status": "verified"}
    )
    assert response.status == 403
    assert await current(hub, secret.ticket_id) == ("received", 2, None)

    await switch(console, "ketut")
    text = await page(console, f"/console/tickets/{secret.ticket_id}")
    for content in (
        "meminta uang tambahan",
        "Loket 3 Disdukcapil",
        "bukti-pungli",
        "Sudah dicek CCTV",
        "Wayan Pelapor",
        "•••• 4444",
    ):
        assert content in text, content
    assert '<img src="https://bukti.example/foto.jpg"' in text
    assert "Isi rahasia" not in text


# --- actions -------------------------------------------------------------------------------


async def test_a_status_change_with_a_note_is_in_the_history_and_the_audit_log(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    ticket = await file(hub, await new_contact(hub))
    made = await console.add_officer("made", name="Made Sudarsana")
    await switch(console, "made")
    text = await page(console, f"/console/tickets/{ticket.ticket_id}")
    assert '<option value="verified">' in text
    assert '<option value="rejected">' not in text, "officers do not reject"

    response = await post(
        console,
        f"/console/tickets/{ticket.ticket_id}/status",
        {"status": "verified", "note": "Data pelapor lengkap.", "from_status": "received"},
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/console/tickets/{ticket.ticket_id}?ok=status"
    detail = await hub.care.get(ticket.ticket_id)
    assert detail is not None and detail.ticket.status == "verified"
    last = detail.history[-1]
    assert (last.actor, last.kind, last.from_status, last.to_status, last.note) == (
        f"officer:{made}",
        "status",
        "received",
        "verified",
        "Data pelapor lengkap.",
    )
    (event,) = [e for e in await audit_events(hub) if e.action == "ticket_status"]
    assert (event.officer_id, event.target_kind, event.target_id) == (
        made,
        "ticket",
        ticket.ticket_id,
    )
    assert event.detail == {"from": "received", "to": "verified", "note": True}

    text = await page(console, response.headers["Location"])
    assert "Status tiket diubah." in text
    assert "Data pelapor lengkap." in text and "Made Sudarsana" in text
    assert "Status: Diterima → Diverifikasi" in text
    assert '<option value="forwarded">' in text, "the next move is offered"


async def test_an_illegal_move_is_409_and_changes_nothing(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    ticket = await file(hub, await new_contact(hub))
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    path = f"/console/tickets/{ticket.ticket_id}/status"

    response = await post(console, path, {"status": "closed", "note": "tutup"})
    assert response.status == 409
    text = await response.text()
    assert 'id="form-error"' in text and "tutup" in text, "the typed note is kept"
    # A page opened before someone else moved the ticket: the move is refused too.
    await advance(hub, ticket.ticket_id, "verified")
    response = await post(console, path, {"status": "forwarded", "from_status": "received"})
    assert response.status == 409
    assert await current(hub, ticket.ticket_id) == ("verified", 2, None)
    refused = [e for e in await audit_events(hub) if e.action == "ticket_status_refused"]
    assert [e.detail["reason"] for e in refused] == ["illegal", "changed"]
    # A rejection needs its reason.
    response = await post(console, path, {"status": "rejected", "note": "  "})
    assert response.status == 400
    assert await current(hub, ticket.ticket_id) == ("verified", 2, None)
    response = await post(console, path, {"status": "nonsense"})
    assert response.status == 400


async def test_an_officer_may_not_reject(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    ticket = await file(hub, await new_contact(hub))
    await console.add_officer("made")
    await switch(console, "made")
    response = await post(
        console,
        f"/console/tickets/{ticket.ticket_id}/status",
        {"status": "rejected", "note": "Bukan wewenang kami."},
    )
    assert response.status == 403
    assert "Akses ditolak" in await response.text()
    assert await current(hub, ticket.ticket_id) == ("received", 1, None)
    (event,) = [e for e in await audit_events(hub) if e.action == "ticket_status_refused"]
    assert event.detail == {"to": "rejected", "reason": "not_allowed"}

    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    text = await page(console, f"/console/tickets/{ticket.ticket_id}")
    assert '<option value="rejected">' in text


async def test_a_post_without_the_csrf_token_is_refused(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    ticket = await file(hub, await new_contact(hub))
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    base = f"/console/tickets/{ticket.ticket_id}"
    for action, data in [
        ("status", {"status": "verified"}),
        ("assign", {"officer_id": ""}),
        ("note", {"note": "catatan"}),
    ]:
        response = await post(console, f"{base}/{action}", data, token=False)
        assert response.status == 403, action
        forged = await post(
            console, f"{base}/{action}", data | {"csrf_token": "palsu"}, token=False
        )
        assert forged.status == 403, action
    assert await current(hub, ticket.ticket_id) == ("received", 1, None)


async def test_without_a_session_every_page_and_action_is_refused(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await start(aiohttp_client, make_settings)
    ticket = await file(console.hub, await new_contact(console.hub))
    for path in ("/console/tickets", f"/console/tickets/{ticket.ticket_id}", "/console/dashboard"):
        response = await console.client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/console/login?next=")
        xhr = await console.client.get(path, headers={"X-Requested-With": "XMLHttpRequest"})
        assert xhr.status == 401
    response = await console.client.post(
        f"/console/tickets/{ticket.ticket_id}/status",
        data={"status": "verified"},
        allow_redirects=False,
    )
    assert (response.status, response.headers["Location"]) == (303, "/console/login")
    assert await current(console.hub, ticket.ticket_id) == ("received", 1, None)


async def test_a_citizens_markup_is_shown_as_text(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings]
) -> None:
    console = await start(aiohttp_client, make_settings)
    hub = console.hub
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    citizen = await new_contact(hub, name=f"Budi {script}")
    ticket = await file(
        hub,
        citizen,
        description=f"Tolong {script}",
        incident_where=script,
        attachments=[
            {"content_type": "image/png", "url": "javascript:alert(1)", "filename": script},
            {"content_type": "image/png", "url": "http://x.example/a.png", "filename": "a.png"},
        ],
    )
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    text = await page(console, f"/console/tickets/{ticket.ticket_id}")
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert 'href="javascript:' not in text and 'src="javascript:' not in text
    assert '<a href="http://x.example/a.png"' in text, "http: a link, not an image"
    assert '<img src="http://' not in text, "the CSP loads only https images"
    response = await post(console, f"/console/tickets/{ticket.ticket_id}/note", {"note": script})
    assert response.status == 303
    text = await page(console, f"/console/tickets/{ticket.ticket_id}")
    assert "<script>alert" not in text


async def test_assignment_by_a_supervisor_and_taking_by_an_officer(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    ticket = await file(hub, await new_contact(hub))
    other = await file(hub, await new_contact(hub, phone="+6281200000002"))
    made = await console.add_officer("made", name="Made Sudarsana", agencies=("disdukcapil",))
    nyoman = await console.add_officer("nyoman", agencies=("imigrasi",))
    await console.add_officer("ketut", "supervisor")
    await switch(console, "ketut")
    path = f"/console/tickets/{ticket.ticket_id}/assign"

    text = await page(console, f"/console/tickets/{ticket.ticket_id}")
    assert f'<option value="{made}">' in text
    assert f'<option value="{nyoman}">' not in text, "not an officer of this agency"
    response = await post(console, path, {"officer_id": str(nyoman)})
    assert response.status == 400
    response = await post(console, path, {"officer_id": str(made)})
    assert response.status == 303
    assert await current(hub, ticket.ticket_id) == ("received", 2, made)
    text = await page(console, f"/console/tickets/{ticket.ticket_id}")
    assert "Ditugaskan ke Made Sudarsana" in text
    response = await post(console, path, {"officer_id": ""})
    assert response.status == 303
    assert (await current(hub, ticket.ticket_id))[2] is None

    await switch(console, "made")
    text = await page(console, f"/console/tickets/{other.ticket_id}")
    assert 'id="take"' in text and 'id="assignee"' not in text
    response = await post(
        console, f"/console/tickets/{other.ticket_id}/assign", {"officer_id": str(made)}
    )
    assert response.status == 303
    assert (await current(hub, other.ticket_id))[2] == made
    response = await post(console, path, {"officer_id": str(nyoman)})
    assert response.status == 403
    actions = [(e.action, e.detail) for e in await audit_events(hub) if "assign" in e.action]
    assert actions == [
        ("ticket_assigned", {"from": None, "to": made}),
        ("ticket_assigned", {"from": made, "to": None}),
        ("ticket_assigned", {"from": None, "to": made}),
        ("ticket_assign_refused", {"to": nyoman}),
    ]


async def test_an_internal_note(
    aiohttp_client: AiohttpClient, make_settings: Callable[..., Settings], db_url: str
) -> None:
    console = await start(aiohttp_client, make_settings, db_url)
    hub = console.hub
    ticket = await file(hub, await new_contact(hub))
    made = await console.add_officer("made")
    await switch(console, "made")
    path = f"/console/tickets/{ticket.ticket_id}/note"
    assert (await post(console, path, {"note": "   "})).status == 400
    assert (await post(console, path, {"note": "x" * 2001})).status == 400
    response = await post(console, path, {"note": "Menunggu jawaban instansi."})
    assert response.status == 303
    detail = await hub.care.get(ticket.ticket_id)
    assert detail is not None
    assert (detail.history[-1].kind, detail.history[-1].note) == (
        "note",
        "Menunggu jawaban instansi.",
    )
    assert detail.ticket.status == "received"
    (event,) = [e for e in await audit_events(hub) if e.action == "ticket_note"]
    assert (event.officer_id, event.target_id, event.detail) == (
        made,
        ticket.ticket_id,
        {"length": 26},
    )
    assert "Catatan ditambahkan." in await page(console, response.headers["Location"])


# --- in a browser ----------------------------------------------------------------------------


CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
"""Run before the page's own code (through the DevTools protocol, so the CSP allows it)."""


async def test_the_ticket_page_in_a_browser(
    browser: Browser, make_settings: Callable[..., Settings]
) -> None:
    """A supervisor moves a ticket with the page's own form; the page is saved as a picture."""
    clock = Clock(START)
    app = create_app(settings_for(make_settings), clock=clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        hub = app[HUB]
        made = await add_officer(hub, clock, "made", name="Made Sudarsana")
        await add_officer(hub, clock, "ketut", "supervisor", name="Ketut Wirawan")
        citizen = await new_contact(hub, "Komang Ayu", "+6281337001234")
        ticket = await file(
            hub,
            citizen,
            description=(
                "Sudah tiga kali datang untuk perekaman KTP-el, selalu dikatakan blangko "
                "habis. Mohon kepastian kapan blangko tersedia."
            ),
            incident_when="Senin pagi, 14 Desember",
            incident_where="Loket Disdukcapil, lantai 1",
            attachments=[
                {
                    "content_type": "image/jpeg",
                    "url": "telegram-file:AgAD-loket",
                    "filename": "antrean.jpg",
                    "caption": "antrean loket",
                }
            ],
        )
        await hub.care.assign(ticket.ticket_id, made, SYSTEM)
        clock.advance(minutes=20)
        await advance(hub, ticket.ticket_id, "verified", note="Data pelapor lengkap.")
        clock.advance(minutes=35)
        base = str(server.make_url("")).rstrip("/")

        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_init_script(CSP_WATCH)
        page_ = await context.new_page()
        problems: list[str] = []
        page_.on("console", lambda m: problems.append(m.text) if "Refused" in m.text else None)
        await page_.goto(base + f"/console/tickets/{ticket.ticket_id}")
        await page_.fill("#username", "ketut")
        await page_.fill("#password", PASSWORD)
        await page_.click("#login-submit")
        await page_.wait_for_url(base + f"/console/tickets/{ticket.ticket_id}")
        await page_.select_option("#new-status", "forwarded")
        await page_.fill("#status-note", "Diteruskan ke Disdukcapil untuk kepastian blangko.")
        await page_.click("#status-submit")
        await page_.wait_for_url(f"**/console/tickets/{ticket.ticket_id}?ok=status")
        assert await page_.locator("#ticket-status").inner_text() == "Diteruskan"
        assert await page_.locator("#flash").inner_text() == "Status tiket diubah."
        assert "•••• 1234" in await page_.locator("#reporter").inner_text()
        assert await page_.evaluate("window.__cspViolations") == []
        assert problems == [], problems
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "console-ticket.png"
        await page_.screenshot(path=str(shot), full_page=True)
        if os.environ.get("OMNIHUB_TEST_UPDATE_DOCS") == "1":
            DOCS.mkdir(exist_ok=True)
            shutil.copyfile(shot, DOCS / "console-ticket.png")
        await context.close()
    finally:
        await server.close()

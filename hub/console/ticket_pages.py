"""The console's CARE tickets: the list with filters, one ticket, and officers' actions.

Who may see or move what is decided by ``CareService`` (hub.care) alone: the pages
only offer what it would accept and turn its refusals into HTTP answers: 404 for
a ticket the officer may not see (the same as for one that does not exist), 403
for a move their role may not make, 409 for one the procedure does not allow.
Every action is audited, refused ones too, and so is opening a confidential or
anonymous ticket (``ticket_read``, or ``ticket_read_refused`` when the officer was
shown the page without its content).

A reporter's NIK is shown masked to whoever may see the reporter (never on an
anonymous ticket); supervisors and admins may reveal it in full with a POST that
is audited (``ticket_nik_revealed``); an officer's attempt is refused (403) and
audited too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.care.access import can_know_reporter, can_read_content, may_reveal_nik
from hub.care.service import CareService, NotAllowed, TicketKind, TicketNotFound
from hub.care.status import IllegalTransition, TicketStatus
from hub.catalogue import Catalogue
from hub.console.audit_trail import audit
from hub.console.console_deps import CONTEXT
from hub.console.officer_login import Officer
from hub.console.pages import render
from hub.console.session import current_officer, local, see_other
from hub.console.ticket_view import (
    CHANNEL_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    care_actor,
    reporter,
    ticket_view,
)
from hub.store import officers as officer_store
from hub.store.tickets import TicketRecord

PREFIX = "/console/tickets"
PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_NOTE = 2000
"""The REST API's limit too; ``ticket_events.note`` is text, but a note is no letter."""
FLASH = {
    "status": "Status tiket diubah.",
    "assign": "Penugasan disimpan.",
    "note": "Catatan ditambahkan.",
}
ERRORS = {
    "note_required": "Penolakan wajib disertai alasan di kolom catatan; pelapor menerimanya.",
    "note_empty": "Catatan tidak boleh kosong.",
    "illegal": "Perubahan status itu tidak dapat dilakukan pada status tiket sekarang.",
    "changed": "Tiket baru saja diubah petugas lain. Periksa keadaannya lalu coba lagi.",
    "bad_officer": "Petugas itu tidak aktif atau tidak menangani instansi tiket ini.",
}
"""Fixed texts, chosen by a code: nothing a request sends is echoed as a message."""


def _care(request: web.Request) -> CareService:
    care = request.app[CONTEXT].care
    if care is None:
        raise web.HTTPServiceUnavailable(reason="CARE is not set up")
    return care


def catalogue_of(request: web.Request) -> Catalogue:
    """The catalogue in use now (a reload shows at the next request)."""
    ctx = request.app[CONTEXT]
    if ctx.catalogue is not None:
        return ctx.catalogue()
    return _care(request).catalogue


def agency_names(catalogue: Catalogue) -> dict[str, str]:
    return {key: agency.short or agency.name for key, agency in catalogue.agencies.items()}


# --- the list ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    statuses: tuple[str, ...] = ()
    kind: str | None = None
    agency: str | None = None
    breached: bool | None = None
    page: int = 1

    def query(self, page: int) -> str:
        """The list's query string for ``page`` with these filters."""
        pairs: list[tuple[str, str]] = [("status", s) for s in self.statuses]
        if self.kind:
            pairs.append(("kind", self.kind))
        if self.agency:
            pairs.append(("agency", self.agency))
        if self.breached is not None:
            pairs.append(("breached", "1" if self.breached else "0"))
        if page > 1:
            pairs.append(("page", str(page)))
        return urlencode(pairs)


def _one_of(query: Mapping[str, str], name: str, choices: Collection[str]) -> str | None:
    value = query.get(name, "")
    if not value:
        return None
    if value not in choices:
        raise web.HTTPBadRequest(reason=f"unknown {name}")
    return value


def filters_from(request: web.Request, agencies: Collection[str]) -> Filters:
    """The list's filters from the query string; 400 for a value no form offers."""
    statuses: list[str] = []
    for value in request.query.getall("status", []):
        if value not in STATUS_LABELS:
            raise web.HTTPBadRequest(reason="unknown status")
        if value not in statuses:
            statuses.append(value)
    breached = _one_of(request.query, "breached", ("0", "1"))
    page = request.query.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        raise web.HTTPBadRequest(reason="bad page")
    return Filters(
        statuses=tuple(statuses),
        kind=_one_of(request.query, "kind", [k.value for k in TicketKind]),
        agency=_one_of(request.query, "agency", agencies),
        breached=None if breached is None else breached == "1",
        page=int(page),
    )


async def officer_names(request: web.Request) -> dict[int, str]:
    async with request.app[CONTEXT].db.engine.connect() as conn:
        records = await officer_store.all_officers(conn)
    return {r.id: r.display_name or r.username for r in records}


async def ticket_list(request: web.Request) -> web.StreamResponse:
    officer = current_officer(request)
    catalogue = catalogue_of(request)
    filters = filters_from(request, catalogue.agencies)
    found = await _care(request).search(
        care_actor(officer),
        statuses=filters.statuses,
        kind=filters.kind,
        agency=filters.agency,
        breached=filters.breached,
        limit=PAGE_SIZE + 1,
        offset=(filters.page - 1) * PAGE_SIZE,
    )
    names = agency_names(catalogue)
    return render(
        request,
        "tickets.html",
        active="tickets",
        tickets=found[:PAGE_SIZE],
        has_next=len(found) > PAGE_SIZE,
        filters=filters,
        officers=await officer_names(request),
        agencies=names,
        agency_choices=[(key, name) for key, name in names.items() if officer.sees_agency(key)],
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
    )


# --- one ticket -------------------------------------------------------------------------------


def _ticket_id(request: web.Request) -> str:
    return request.match_info["ticket_id"]


async def ticket_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str = "",
    note: str = "",
    note_for: str = "status",
    revealed_nik: str = "",
) -> web.Response:
    """The ticket as the officer may see it, with the actions they may take.

    Also the answer to a refused form (``status`` 400/409 with ``error``), so the
    officer sees the ticket as it is now and keeps what they typed (``note``, in the
    ``note_for`` form: ``status`` or ``note``).
    """
    officer = current_officer(request)
    actor = care_actor(officer)
    try:
        detail = await _care(request).visible(actor, _ticket_id(request))
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    ticket = detail.ticket
    await _audit_read(request, ticket, can_read_content(actor, ticket.confidential))
    async with request.app[CONTEXT].db.engine.connect() as conn:
        records = await officer_store.all_officers(conn)
        who = None
        if can_know_reporter(actor, ticket.confidential, ticket.anonymous):
            who = await reporter(conn, ticket)
    if who is not None:
        who = replace(who, nik=_care(request).reporter_nik(actor, ticket) or "")
    names = {r.id: r.display_name or r.username for r in records}
    assignees = [
        (r.id, names[r.id])
        for r in records
        if r.active and Officer.from_record(r).sees_agency(ticket.agency or "")
    ]
    catalogue = catalogue_of(request)
    service = catalogue.get(ticket.service_id) if ticket.service_id else None
    return render(
        request,
        "ticket.html",
        status=status,
        active="tickets",
        view=ticket_view(detail, actor, names, who),
        service=service.name_id if service else "",
        agencies=agency_names(catalogue),
        officers=names,
        assignees=assignees if actor.oversees else [],
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        channel_labels=CHANNEL_LABELS,
        flash=FLASH.get(request.query.get("ok", ""), "") if status == 200 else "",
        error=ERRORS.get(error, ""),
        note_text=note,
        note_for=note_for,
        may_reveal_nik=may_reveal_nik(actor),
        revealed_nik=revealed_nik,
    )


async def ticket_detail(request: web.Request) -> web.StreamResponse:
    """Officers of the ticket's agency (404 for others), supervisors and admins; the
    content of a confidential ticket only for the latter."""
    return await ticket_page(request)


async def _audit_read(request: web.Request, ticket: TicketRecord, content: bool) -> None:
    """Who opened a confidential or anonymous ticket, and whether they saw its content."""
    if not (ticket.confidential or ticket.anonymous):
        return
    detail = {"confidential": ticket.confidential, "anonymous": ticket.anonymous}
    action = "ticket_read" if content else "ticket_read_refused"
    await audit(request, action, "ticket", ticket.ticket_id, detail)


# --- actions ----------------------------------------------------------------------------------


def _note(form: Mapping[str, Any]) -> str:
    value = form.get("note", "")
    if not isinstance(value, str) or len(value) > MAX_NOTE or "\x00" in value:
        raise web.HTTPBadRequest(reason=f"a note is text of at most {MAX_NOTE} characters")
    return value


def _done(ticket_id: str, what: str) -> web.Response:
    return see_other(f"{PREFIX}/{ticket_id}?ok={what}")


async def _refused(request: web.Request, action: str, ticket_id: str, **detail: Any) -> None:
    await audit(request, action + "_refused", "ticket", ticket_id, detail)


async def change_status(request: web.Request) -> web.StreamResponse:
    officer = current_officer(request)
    actor = care_actor(officer)
    care = _care(request)
    form = await request.post()
    target = form.get("status")
    if not isinstance(target, str) or target not in STATUS_LABELS:
        raise web.HTTPBadRequest(reason="unknown status")
    note = _note(form)
    try:
        before = (await care.visible(actor, _ticket_id(request))).ticket
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    if target == TicketStatus.REJECTED and not note.strip():
        return await ticket_page(request, status=400, error="note_required", note=note)
    seen = form.get("from_status")
    if isinstance(seen, str) and seen and seen != before.status:
        await _refused(request, "ticket_status", before.ticket_id, to=target, reason="changed")
        return await ticket_page(request, status=409, error="changed", note=note)
    try:
        moved = await care.change_status(before.ticket_id, target, actor, note)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    except NotAllowed:
        await _refused(request, "ticket_status", before.ticket_id, to=target, reason="not_allowed")
        raise web.HTTPForbidden(reason="not allowed for this role") from None
    except IllegalTransition:
        await _refused(request, "ticket_status", before.ticket_id, to=target, reason="illegal")
        return await ticket_page(request, status=409, error="illegal", note=note)
    detail = {"from": before.status, "to": moved.status, "note": bool(note.strip())}
    await audit(request, "ticket_status", "ticket", moved.ticket_id, detail)
    return _done(moved.ticket_id, "status")


async def assign(request: web.Request) -> web.StreamResponse:
    officer = current_officer(request)
    actor = care_actor(officer)
    care = _care(request)
    form = await request.post()
    raw = form.get("officer_id", "")
    if not isinstance(raw, str) or not (raw == "" or (raw.isdigit() and len(raw) < 19)):
        raise web.HTTPBadRequest(reason="bad officer id")
    officer_id = int(raw) if raw else None
    try:
        before = (await care.visible(actor, _ticket_id(request))).ticket
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    if actor.oversees and officer_id is not None:
        async with request.app[CONTEXT].db.engine.connect() as conn:
            record = await officer_store.by_id(conn, officer_id)
        if (
            record is None
            or not record.active
            or not Officer.from_record(record).sees_agency(before.agency or "")
        ):
            return await ticket_page(request, status=400, error="bad_officer")
    try:
        assigned = await care.assign(before.ticket_id, officer_id, actor)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    except NotAllowed:
        await _refused(request, "ticket_assign", before.ticket_id, to=officer_id)
        raise web.HTTPForbidden(reason="officers may only take a ticket themselves") from None
    except IllegalTransition:
        return await ticket_page(request, status=409, error="changed")
    detail = {"from": before.assigned_to, "to": assigned.assigned_to}
    await audit(request, "ticket_assigned", "ticket", assigned.ticket_id, detail)
    return _done(assigned.ticket_id, "assign")


async def add_note(request: web.Request) -> web.StreamResponse:
    actor = care_actor(current_officer(request))
    care = _care(request)
    note = _note(await request.post())
    try:
        before = (await care.visible(actor, _ticket_id(request))).ticket
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    if not note.strip():
        return await ticket_page(request, status=400, error="note_empty")
    if not can_read_content(actor, before.confidential):
        # Notes are content: who may not read them may not write them either.
        await _refused(request, "ticket_note", before.ticket_id, reason="confidential")
        raise web.HTTPForbidden(reason="confidential ticket")
    try:
        noted = await care.add_note(before.ticket_id, actor, note)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    except IllegalTransition:
        return await ticket_page(request, status=409, error="changed", note=note, note_for="note")
    await audit(request, "ticket_note", "ticket", noted.ticket_id, {"length": len(note)})
    return _done(noted.ticket_id, "note")


async def reveal_nik(request: web.Request) -> web.StreamResponse:
    """The ticket page with the reporter's NIK in full, for this answer only.

    Who may: supervisors and admins, on a ticket they may see whose reporter is not
    anonymous and gave a NIK. Every reveal is audited (``ticket_nik_revealed``);
    an officer gets 403 (audited as refused), a ticket with no NIK to show 404.
    """
    actor = care_actor(current_officer(request))
    care = _care(request)
    try:
        ticket = (await care.visible(actor, _ticket_id(request))).ticket
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    try:
        nik = care.reporter_nik(actor, ticket, full=True)
    except NotAllowed:
        await _refused(request, "ticket_nik_revealed", ticket.ticket_id, reason="role")
        raise web.HTTPForbidden(reason="only supervisors and admins may see a NIK") from None
    if nik is None:
        raise web.HTTPNotFound(reason="no NIK to show")
    await audit(request, "ticket_nik_revealed", "ticket", ticket.ticket_id)
    response = await ticket_page(request, revealed_nik=nik)
    response.headers["Cache-Control"] = "no-store"
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get(local(PREFIX), ticket_list)
    app.router.add_get(local(PREFIX + "/{ticket_id}"), ticket_detail)
    app.router.add_post(local(PREFIX + "/{ticket_id}/status"), change_status)
    app.router.add_post(local(PREFIX + "/{ticket_id}/assign"), assign)
    app.router.add_post(local(PREFIX + "/{ticket_id}/note"), add_note)
    app.router.add_post(local(PREFIX + "/{ticket_id}/nik"), reveal_nik)

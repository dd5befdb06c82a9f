"""The console's announcements: the list with the compose form, one announcement with
its preview per channel and live progress, and the approval and sending controls.

Who may do what: any logged-in officer drafts, reads and follows the progress;
approving, pausing, resuming and cancelling are for supervisors and admins (an
officer gets 403, audited as refused). The rules of the announcement itself (text,
audience, which status may move where) are ``Announcements``'; its refusals are
shown on the form with what the officer typed kept. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.announcements import AnnouncementError, Announcements, Audience
from hub.catalogue import Catalogue
from hub.console.announcement_view import PreviewTexts, channel_previews
from hub.console.audit_trail import audit
from hub.console.console_deps import CONTEXT
from hub.console.officer_login import Role
from hub.console.pages import render
from hub.console.session import current_officer, local, require_role, see_other
from hub.store import announcement_preview
from hub.store.announcement_preview import ChannelAudience
from hub.store.announcements import AnnouncementRecord

PREFIX = "/console/announcements"
API_PREFIX = "/console/api/announcements"
MAX_FIELD = 2000
LIST_SIZE = 50
STATUS_LABELS = {
    "draft": "Draf",
    "scheduled": "Terjadwal",
    "sending": "Sedang dikirim",
    "paused": "Dijeda",
    "sent": "Terkirim",
    "cancelled": "Dibatalkan",
}
FLASH = {
    "drafted": "Draf disimpan. Supervisor dapat menyetujuinya di halaman ini.",
    "approved": "Pengumuman disetujui.",
    "paused": "Pengiriman dijeda.",
    "resumed": "Pengiriman dilanjutkan.",
    "cancelled": "Pengumuman dibatalkan.",
}
REFUSED = {
    "approve": "Pengumuman ini tidak dapat disetujui lagi (statusnya sudah berubah).",
    "pause": "Hanya pengumuman yang sedang dikirim yang dapat dijeda.",
    "resume": "Hanya pengumuman yang dijeda yang dapat dilanjutkan.",
    "cancel": "Pengumuman ini sudah selesai atau dibatalkan.",
}
"""Fixed texts, chosen by a code: nothing a request sends is echoed as a message."""


def _service(request: web.Request) -> Announcements:
    found = request.app[CONTEXT].announcements
    if found is None:
        raise web.HTTPServiceUnavailable(reason="announcements are not set up")
    return found


def _catalogue(request: web.Request) -> Catalogue | None:
    ctx = request.app[CONTEXT]
    return ctx.catalogue() if ctx.catalogue is not None else None


def _zone(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONTEXT].settings.server.timezone)


def _by(request: web.Request) -> str:
    return f"officer:{current_officer(request).id}"


# --- the list and the compose form ------------------------------------------------------------


@dataclass(slots=True)
class Compose:
    """What the officer typed, kept when the draft is refused."""

    title: str = ""
    text_id: str = ""
    text_en: str = ""
    topics: list[str] = field(default_factory=list)
    target: str = "topics"
    service: str = ""
    agency: str = ""
    day: str = ""
    send_at: str = ""


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str) or "\x00" in value:
        raise web.HTTPBadRequest(reason=f"bad {name}")
    return value[: MAX_FIELD * 2]


def _compose_from(form: Any) -> Compose:
    topics = [t for t in form.getall("topic", []) if isinstance(t, str)]
    return Compose(
        title=_text(form, "title"),
        text_id=_text(form, "text_id"),
        text_en=_text(form, "text_en"),
        topics=topics[:50],
        target="booked" if form.get("target") == "booked" else "topics",
        service=_text(form, "service"),
        agency=_text(form, "agency"),
        day=_text(form, "day"),
        send_at=_text(form, "send_at"),
    )


def _send_at(compose: Compose, zone: ZoneInfo) -> datetime | None:
    if not compose.send_at.strip():
        return None
    try:
        local_time = datetime.fromisoformat(compose.send_at.strip())
    except ValueError:
        raise AnnouncementError("the send time is not a date and time") from None
    return local_time.replace(tzinfo=zone)


def _audience(compose: Compose) -> Audience | None:
    if compose.target != "booked":
        return None
    try:
        day = date.fromisoformat(compose.day.strip())
    except ValueError:
        raise AnnouncementError("a targeted notice needs the date of the bookings") from None
    return Audience(day, service=compose.service or None, agency=compose.agency or None)


async def list_page(
    request: web.Request, *, status: int = 200, compose: Compose | None = None, error: str = ""
) -> web.Response:
    service = _service(request)
    catalogue = _catalogue(request)
    topics = service.subscriptions.topics()
    counts = await service.subscriptions.subscriber_counts()
    recent = await service.recent(LIST_SIZE)
    progress = {a.id: await service.progress(a.id) for a in recent if a.started_at is not None}
    services = sorted((s.id, s.name_id) for s in catalogue.services.values()) if catalogue else []
    agencies = (
        sorted((k, a.short or a.name) for k, a in catalogue.agencies.items()) if catalogue else []
    )
    return render(
        request,
        "announcements.html",
        status=status,
        active="announcements",
        announcements=recent,
        progress=progress,
        topics=topics,
        topic_names={t.id: t.name_id for t in topics},
        subscriber_counts=counts,
        services=services,
        agencies=agencies,
        compose=compose or Compose(),
        error=error,
        status_labels=STATUS_LABELS,
    )


async def announcement_list(request: web.Request) -> web.StreamResponse:
    """Any logged-in officer."""
    return await list_page(request)


async def create_draft(request: web.Request) -> web.StreamResponse:
    """Any logged-in officer drafts; nothing is sent before a supervisor approves."""
    compose = _compose_from(await request.post())
    try:
        draft = await _service(request).draft(
            text_id=compose.text_id,
            text_en=compose.text_en,
            topics=compose.topics if compose.target == "topics" else (),
            audience=_audience(compose),
            title=compose.title,
            send_at=_send_at(compose, _zone(request)),
            created_by=_by(request),
        )
    except AnnouncementError as error:
        return await list_page(request, status=400, compose=compose, error=str(error))
    detail = {
        "topics": list(draft.topics),
        "audience": draft.audience,
        "scheduled": draft.send_at is not None,
    }
    await audit(request, "announcement_drafted", "announcement", draft.id, detail)
    return see_other(f"{PREFIX}/{draft.id}?ok=drafted")


# --- one announcement -------------------------------------------------------------------------


def _id(request: web.Request) -> int:
    raw = request.match_info["announcement_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound()
    return int(raw)


async def _found(request: web.Request) -> AnnouncementRecord:
    found = await _service(request).get(_id(request))
    if found is None:
        raise web.HTTPNotFound()
    return found


async def _audience_counts(
    request: web.Request, record: AnnouncementRecord, texts: PreviewTexts
) -> list[ChannelAudience]:
    ctx = request.app[CONTEXT]
    options: dict[str, Any] = {
        "window_hours": texts.window_hours,
        "now": ctx.clock(),
        "default_locale": ctx.settings.locale.default,
    }
    async with ctx.db.engine.connect() as conn:
        if not record.audience:
            return await announcement_preview.subscribers_by_channel(conn, record.topics, **options)
        audience = Audience.from_json(record.audience)
        services = _service(request).services_of(audience)
        return await announcement_preview.booked_by_channel(conn, services, audience.day, **options)


async def detail_page(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    ctx = request.app[CONTEXT]
    record = await _found(request)
    service = _service(request)
    previews = []
    if ctx.announcement_texts is not None:
        texts = ctx.announcement_texts(record)
        previews = channel_previews(
            ctx.settings, texts, await _audience_counts(request, record, texts)
        )
    officer = current_officer(request)
    catalogue = _catalogue(request)
    audience_label = ""
    if record.audience:
        audience = Audience.from_json(record.audience)
        if audience.service:
            found = catalogue.get(audience.service) if catalogue else None
            audience_label = found.name_id if found else audience.service
        else:
            agency = catalogue.agencies.get(audience.agency or "") if catalogue else None
            audience_label = (agency.short or agency.name) if agency else audience.agency or ""
    return render(
        request,
        "announcement.html",
        status=status,
        active="announcements",
        a=record,
        audience_label=audience_label,
        audience_day=Audience.from_json(record.audience).day if record.audience else None,
        topic_names={t.id: t.name_id for t in service.subscriptions.topics()},
        previews=previews,
        progress=await service.progress(record.id),
        oversees=officer.role >= Role.SUPERVISOR,
        status_labels=STATUS_LABELS,
        flash=FLASH.get(request.query.get("ok", ""), "") if status == 200 else "",
        error=error,
    )


async def announcement_detail(request: web.Request) -> web.StreamResponse:
    """Any logged-in officer; the controls are shown to supervisors and admins only."""
    return await detail_page(request)


async def progress_json(request: web.Request) -> web.StreamResponse:
    """Any logged-in officer: the counts the detail page refreshes itself with."""
    record = await _found(request)
    counts = await _service(request).progress(record.id)
    return web.json_response(
        {
            "id": record.id,
            "status": record.status,
            "status_label": STATUS_LABELS.get(record.status, record.status),
            "progress": counts,
        }
    )


# --- supervisors' controls --------------------------------------------------------------------


async def _oversee(request: web.Request, action: str) -> AnnouncementRecord:
    """The announcement, if the officer is a supervisor or admin; 403 (audited) if not."""
    record = await _found(request)
    try:
        require_role(request, Role.SUPERVISOR)
    except web.HTTPForbidden:
        await audit(request, f"announcement_{action}_refused", "announcement", record.id)
        raise
    return record


async def approve(request: web.Request) -> web.StreamResponse:
    """Supervisors and admins: the draft starts now, or at its time."""
    record = await _oversee(request, "approve")
    try:
        approved = await _service(request).approve(record.id, _by(request))
    except AnnouncementError:
        return await detail_page(request, status=409, error=REFUSED["approve"])
    detail = {"status": approved.status, "recipients": approved.recipients}
    await audit(request, "announcement_approved", "announcement", record.id, detail)
    return see_other(f"{PREFIX}/{record.id}?ok=approved")


def _control(action: str, done: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        record = await _oversee(request, action)
        service = _service(request)
        moved = await getattr(service, action)(record.id)
        if not moved:
            return await detail_page(request, status=409, error=REFUSED[action])
        await audit(
            request, f"announcement_{done}", "announcement", record.id, {"from": record.status}
        )
        return see_other(f"{PREFIX}/{record.id}?ok={done}")

    handler.__doc__ = f"Supervisors and admins: {action} the announcement."
    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get(local(PREFIX), announcement_list)
    app.router.add_post(local(PREFIX), create_draft)
    app.router.add_get(local(PREFIX + "/{announcement_id}"), announcement_detail)
    app.router.add_post(local(PREFIX + "/{announcement_id}/approve"), approve)
    one = PREFIX + "/{announcement_id}"
    app.router.add_post(local(one + "/pause"), _control("pause", "paused"))
    app.router.add_post(local(one + "/resume"), _control("resume", "resumed"))
    app.router.add_post(local(one + "/cancel"), _control("cancel", "cancelled"))
    app.router.add_get(local(API_PREFIX + "/{announcement_id}/progress"), progress_json)

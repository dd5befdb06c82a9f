"""The announcements of ``/api/v1``: draft, approve, list and read them.

Drafting (``announcements:write``) and approving (``announcements:approve``) are two
scopes, so the system that writes an announcement need not be the one that lets it go
out; either may read them. Everything goes through ``Announcements``, the service the
console uses too, so the rules (a text, exactly one audience, only a draft is approved)
are the same. The answers never show who receives an announcement: only counts.
"""

from __future__ import annotations

import re
from datetime import date

from aiohttp import web
from pydantic import MISSING

from hub.announcements import AnnouncementError, Announcements, Audience
from hub.api import shapes
from hub.api.bodies import answer, read_body
from hub.api.deps import API, API_CALLER
from hub.api.errors import api_error, bad_request, not_found
from hub.store.announcements import AnnouncementRecord

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_ID = 2**63 - 1
"""The largest id a database keeps (BIGINT); a larger number cannot be one."""
ACTOR_LENGTH = 120
"""``announcements.created_by`` and ``approved_by`` are VARCHAR(120)."""

_ID = re.compile(r"[1-9][0-9]{0,18}")
_NUMBER = re.compile(r"[0-9]{1,4}")


# --- shapes -------------------------------------------------------------------------------------


def audience_shape(audience: dict[str, str]) -> shapes.AnnouncementAudience:
    return shapes.AnnouncementAudience(
        date=date.fromisoformat(audience["date"]),
        service=audience.get("service", MISSING),
        agency=audience.get("agency", MISSING),
    )


def announcement_shape(record: AnnouncementRecord, progress: dict[str, int]) -> shapes.Announcement:
    return shapes.Announcement(
        id=record.id,
        status=record.status,
        title=record.title,
        topics=list(record.topics),
        audience=audience_shape(record.audience) if record.audience else None,
        text=shapes.AnnouncementTexts(id=record.text_id, en=record.text_en),
        send_at=record.send_at,
        created_by=record.created_by,
        approved_by=record.approved_by,
        created_at=record.created_at,
        approved_at=record.approved_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        recipients=record.recipients,
        progress=shapes.AnnouncementProgress(**progress),
    )


async def _shown(announcements: Announcements, record: AnnouncementRecord) -> shapes.Announcement:
    return announcement_shape(record, await announcements.progress(record.id))


# --- parameters ---------------------------------------------------------------------------------


def _announcements(request: web.Request) -> Announcements:
    announcements = request.app[API].announcements
    if announcements is None:
        raise api_error(
            503, "announcements_unavailable", "announcements are not set up in this hub"
        )
    return announcements


def _by(request: web.Request) -> str:
    """The calling system, named after its token: ``api:<token name>``."""
    return f"api:{request[API_CALLER]}"[:ACTOR_LENGTH]


def _path_id(request: web.Request) -> int:
    """The announcement's number; 404 for anything that cannot be one."""
    text = request.match_info["id"]
    if not _ID.fullmatch(text) or int(text) > MAX_ID:
        raise not_found(f"no announcement with id {text!r}")
    return int(text)


def _query_limit(request: web.Request) -> int:
    text = request.query.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    if not _NUMBER.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise bad_request(f"'limit' must be a whole number from 1 to {MAX_LIMIT}, not {text!r}")
    return int(text)


# --- handlers -----------------------------------------------------------------------------------


async def create_announcement(request: web.Request) -> web.Response:
    """A draft; nothing is sent until it is approved. 201 with the draft."""
    announcements = _announcements(request)
    body = await read_body(request, shapes.AnnouncementDraft)
    audience = None
    if body.audience is not MISSING:
        target = body.audience
        audience = Audience(
            target.date,
            service=None if target.service is MISSING else target.service,
            agency=None if target.agency is MISSING else target.agency,
        )
    try:
        record = await announcements.draft(
            text_id=body.text.id,
            text_en=body.text.en,
            topics=[] if body.topics is MISSING else body.topics,
            audience=audience,
            title=body.title,
            send_at=body.send_at,
            created_by=_by(request),
        )
    except AnnouncementError as error:
        raise bad_request(str(error)) from None
    shown = await _shown(announcements, record)
    return web.json_response(shown.model_dump(mode="json"), status=201)


async def approve_announcement(request: web.Request) -> web.Response:
    """Send a draft now, or schedule it for its ``send_at``; 409 for anything but a draft."""
    announcements = _announcements(request)
    announcement_id = _path_id(request)
    try:
        record = await announcements.approve(announcement_id, _by(request))
    except LookupError:
        raise not_found(f"no announcement with id {announcement_id}") from None
    except AnnouncementError as error:
        raise api_error(409, "status_conflict", str(error)) from None
    started = request.app[API].announcement_started
    if started is not None and record.status == "sending":
        started()
    return answer(await _shown(announcements, record))


async def list_announcements(request: web.Request) -> web.Response:
    announcements = _announcements(request)
    limit = _query_limit(request)
    found = await announcements.recent(limit)
    return answer(shapes.AnnouncementList(items=[await _shown(announcements, r) for r in found]))


async def get_announcement(request: web.Request) -> web.Response:
    announcements = _announcements(request)
    announcement_id = _path_id(request)
    record = await announcements.get(announcement_id)
    if record is None:
        raise not_found(f"no announcement with id {announcement_id}")
    return answer(await _shown(announcements, record))

"""The officers' inbox: conversations handed over by the bot, and what officers do
with them (claim, reply, hand back to the bot, close).

Pages are plain forms that work without JavaScript; ``inbox.js`` keeps them fresh
from the live event stream and the JSON twins under ``/console/api/``. Claiming is
one conditional UPDATE, so two officers clicking at once get one winner and one
409. A reply goes into the outbox on the citizen's own channel through
``ConsoleContext.officer_reply``; the console never touches a channel. Every action
is audited (a reply by its length only: the text is in the history already).

A conversation of a citizen who filed a confidential CARE ticket is for those who may
read confidential content (``hub.care.access``): anyone else gets 403 on its page,
its JSON and its actions, and the refusal is audited. Reading such a conversation, or
an anonymous reporter's, is audited too (once per officer and conversation within
``READ_AUDIT_WINDOW``, so a page refreshing itself live is one read).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.care.access import ConversationAccess
from hub.console import events
from hub.console.audit_trail import audit
from hub.console.console_deps import ConsoleContext, console_context
from hub.console.inbox_view import (
    ConversationView,
    access_of,
    conversation_view,
    inbox_rows,
    permissions,
)
from hub.console.pages import render
from hub.console.session import (
    API_PREFIX,
    PREFIX,
    current_officer,
    json_error,
    local,
    see_other,
    wants_json,
)
from hub.coordination.live import announce
from hub.model import ConversationStatus
from hub.store import audit as audit_store
from hub.store import conversations as conversation_store
from hub.store import inbox as inbox_store
from hub.store.inbox import WaitingConversation

MAX_REPLY = 4000
CONVERSATION = PREFIX + r"/conversations/{id:\d{1,18}}"
API_CONVERSATION = API_PREFIX + r"conversations/{id:\d{1,18}}"
READ_AUDIT_WINDOW = timedelta(minutes=5)


def _zone(ctx: ConsoleContext) -> ZoneInfo:
    return ZoneInfo(ctx.settings.server.timezone)


def _conversation_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _page_url(conversation_id: int) -> str:
    return f"{PREFIX}/conversations/{conversation_id}"


async def _guarded(
    request: web.Request, conversation_id: int, action: str
) -> tuple[WaitingConversation, ConversationAccess]:
    """The conversation and what the officer may see of it: 404 when there is none; 403,
    audited as ``conversation_<action>_refused``, when it is a confidential reporter's
    and the officer may not read confidential content."""
    ctx = console_context(request)
    async with ctx.db.engine.connect() as conn:
        found = await inbox_store.conversation(conn, conversation_id)
    if found is None:
        raise web.HTTPNotFound(reason="no such conversation")
    access = access_of(current_officer(request), found)
    if not access.read:
        detail = {"reason": "confidential"}
        await audit(request, f"conversation_{action}_refused", "conversation", found.id, detail)
        raise web.HTTPForbidden(reason="a confidential report: for supervisors only")
    return found, access


async def _audit_read(request: web.Request, found: WaitingConversation) -> None:
    """A confidential or anonymous reporter's conversation was read: who, when, which."""
    if not (found.confidential or found.anonymous):
        return
    ctx = console_context(request)
    officer = current_officer(request)
    async with ctx.db.begin() as conn:
        if await audit_store.recorded_since(
            conn,
            officer_id=officer.id,
            action="conversation_read",
            target_kind="conversation",
            target_id=found.id,
            since=ctx.clock() - READ_AUDIT_WINDOW,
        ):
            return
        detail = {"confidential": found.confidential, "anonymous": found.anonymous}
        await audit(request, "conversation_read", "conversation", found.id, detail, conn=conn)


async def _view(request: web.Request, conversation_id: int) -> ConversationView:
    found, access = await _guarded(request, conversation_id, "read")
    await _audit_read(request, found)
    ctx = console_context(request)
    async with ctx.db.engine.connect() as conn:
        return await conversation_view(conn, found, _zone(ctx), access)


async def _page(
    request: web.Request,
    conversation_id: int,
    *,
    status: int = 200,
    error: str = "",
    text: str = "",
) -> web.Response:
    view = await _view(request, conversation_id)
    officer = current_officer(request)
    return render(
        request,
        "conversation.html",
        status=status,
        active="inbox",
        conversation=view.row,
        messages=view.messages,
        whole_history=view.whole_history,
        can=permissions(officer, view.row.status, view.row.claimed_by),
        error=error,
        reply_text=text,
        max_reply=MAX_REPLY,
    )


async def _refused(
    request: web.Request, conversation_id: int, status: int, code: str, message: str, text: str = ""
) -> web.StreamResponse:
    """An action that cannot be done: JSON for scripts, the page with the reason for people."""
    if wants_json(request):
        return json_error(status, code, message)
    return await _page(request, conversation_id, status=status, error=message, text=text)


async def _done(request: web.Request, conversation_id: int, location: str) -> web.StreamResponse:
    if not wants_json(request):
        return see_other(location)
    view = await _view(request, conversation_id)
    return web.json_response(view.to_json())


# --- pages and their JSON ---------------------------------------------------------------------


async def inbox_page(request: web.Request) -> web.StreamResponse:
    """Any officer; each row shows only what the officer may see of it."""
    ctx = console_context(request)
    async with ctx.db.engine.connect() as conn:
        rows = await inbox_rows(conn, _zone(ctx), current_officer(request))
    return render(request, "home.html", active="inbox", conversations=rows)


async def inbox_json(request: web.Request) -> web.StreamResponse:
    """Any officer; the same rows as the page."""
    ctx = console_context(request)
    async with ctx.db.engine.connect() as conn:
        rows = await inbox_rows(conn, _zone(ctx), current_officer(request))
    return web.json_response({"conversations": [row.to_json() for row in rows]})


async def conversation_page(request: web.Request) -> web.StreamResponse:
    """Any officer, except a confidential reporter's conversation: supervisors and admins."""
    return await _page(request, _conversation_id(request))


async def conversation_json(request: web.Request) -> web.StreamResponse:
    """The page's JSON twin, with the page's rule."""
    view = await _view(request, _conversation_id(request))
    return web.json_response(view.to_json())


# --- actions ----------------------------------------------------------------------------------


async def claim(request: web.Request) -> web.StreamResponse:
    """Take a waiting conversation; 409 when someone else was quicker, 403 for a
    confidential reporter's unless a supervisor or admin."""
    officer = current_officer(request)
    conversation_id = _conversation_id(request)
    await _guarded(request, conversation_id, "claim")
    ctx = console_context(request)
    async with ctx.db.begin() as conn:
        found = await inbox_store.conversation(conn, conversation_id)
        if found is None:
            raise web.HTTPNotFound(reason="no such conversation")
        claimed = await conversation_store.claim(conn, conversation_id, officer.id, ctx.clock())
        if claimed:
            await audit(request, "conversation_claimed", "conversation", conversation_id, conn=conn)
    if not claimed:
        if found.status == ConversationStatus.OFFICER.value and found.claimed_by == officer.id:
            return await _done(request, conversation_id, _page_url(conversation_id))
        return await _refused(request, conversation_id, 409, "conflict", _not_waiting(found.status))
    await announce(
        ctx.coordinator, "conversation", conversation_id=conversation_id, status="officer"
    )
    return await _done(request, conversation_id, _page_url(conversation_id))


def _not_waiting(status: str) -> str:
    if status == ConversationStatus.OFFICER.value:
        return "Percakapan ini sudah diambil petugas lain."
    return "Percakapan ini tidak sedang menunggu petugas."


async def _reply_text(request: web.Request) -> str:
    if request.content_type == "application/json":
        try:
            body: Any = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(reason="body is not JSON") from None
        value = body.get("text") if isinstance(body, dict) else None
    else:
        value = (await request.post()).get("text")
    return value.strip() if isinstance(value, str) else ""


async def reply(request: web.Request) -> web.StreamResponse:
    """An answer into the outbox, on the citizen's channel; only from the officer
    holding the conversation, or a supervisor (only a supervisor or an admin for a
    confidential reporter's)."""
    officer = current_officer(request)
    conversation_id = _conversation_id(request)
    ctx = console_context(request)
    text = await _reply_text(request)
    found, _access = await _guarded(request, conversation_id, "reply")
    allowed = permissions(officer, found.status, found.claimed_by)
    if not allowed.reply:
        if found.status == ConversationStatus.OFFICER.value:
            raise web.HTTPForbidden(reason="another officer holds this conversation")
        message = "Ambil percakapan ini dulu sebelum membalas."
        return await _refused(request, conversation_id, 409, "conflict", message, text)
    if not text:
        return await _refused(request, conversation_id, 400, "bad_request", "Balasan kosong.")
    if len(text) > MAX_REPLY:
        message = f"Balasan terlalu panjang (paling banyak {MAX_REPLY} karakter)."
        return await _refused(request, conversation_id, 400, "bad_request", message, text)
    if ctx.officer_reply is None or not await ctx.officer_reply(conversation_id, officer.id, text):
        raise web.HTTPNotFound(reason="no such conversation")
    await audit(
        request, "conversation_replied", "conversation", conversation_id, {"length": len(text)}
    )
    return await _done(request, conversation_id, _page_url(conversation_id))


async def _end(
    request: web.Request, to: ConversationStatus, action: str, verb: str
) -> web.StreamResponse:
    officer = current_officer(request)
    conversation_id = _conversation_id(request)
    await _guarded(request, conversation_id, verb)
    ctx = console_context(request)
    async with ctx.db.begin() as conn:
        found = await inbox_store.conversation(conn, conversation_id)
        if found is None:
            raise web.HTTPNotFound(reason="no such conversation")
        allowed = permissions(officer, found.status, found.claimed_by)
        if found.status == ConversationStatus.OFFICER.value and not allowed.close:
            raise web.HTTPForbidden(reason="another officer holds this conversation")
        done = await conversation_store.release(
            conn,
            conversation_id,
            to,
            ctx.clock(),
            status=ConversationStatus(found.status),
            claimed_by=found.claimed_by,
        )
        if done:
            await audit(request, action, "conversation", conversation_id, conn=conn)
    if not done:
        message = "Percakapan ini tidak sedang ditangani petugas."
        return await _refused(request, conversation_id, 409, "conflict", message)
    await announce(
        ctx.coordinator, "conversation", conversation_id=conversation_id, status=to.value
    )
    return await _done(request, conversation_id, PREFIX + "/")


async def release(request: web.Request) -> web.StreamResponse:
    """Back to the bot: the citizen's next message gets a bot answer again."""
    return await _end(request, ConversationStatus.BOT, "conversation_released", "release")


async def close(request: web.Request) -> web.StreamResponse:
    """Like release, for good; the same rule."""
    return await _end(request, ConversationStatus.CLOSED, "conversation_closed", "close")


def add_routes(app: web.Application) -> None:
    app.router.add_get(local(PREFIX + "/"), inbox_page)
    app.router.add_get(local(CONVERSATION), conversation_page)
    app.router.add_post(local(CONVERSATION + "/claim"), claim)
    app.router.add_post(local(CONVERSATION + "/reply"), reply)
    app.router.add_post(local(CONVERSATION + "/release"), release)
    app.router.add_post(local(CONVERSATION + "/close"), close)
    app.router.add_get(local(API_PREFIX + "inbox"), inbox_json)
    app.router.add_get(local(API_CONVERSATION + "/messages"), conversation_json)
    events.add_routes(app)

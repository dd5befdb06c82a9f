"""The console's gate: no page or action without a session, no change without CSRF.

One middleware of the console's own application (mounted at ``/console``), so the
REST API and the webhooks never pass through it. It loads the session from the
cookie into the request; a page without one is sent to the login form, a script
(XHR, JSON, event stream) gets a 401 it can act on, and any request that may change
something must carry the session's CSRF token, as a form field or a header.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from hub.console.officer_login import AUTH, ConsoleSession, Officer, Role

PREFIX = "/console"
LOGIN_PATH = "/console/login"
STATIC_PREFIX = "/console/static/"
API_PREFIX = "/console/api/"
COOKIE = "omnihub_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SESSION: web.RequestKey[ConsoleSession] = web.RequestKey("console_session", ConsoleSession)
"""The request's session (and so its officer), set by the middleware for every console
path except the login form and the static files."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def in_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def local(path: str) -> str:
    """A console path as the console's application registers it: mounted at ``PREFIX``,
    it adds the prefix itself (``/console`` itself is ``""``)."""
    return path.removeprefix(PREFIX)


def is_public(path: str) -> bool:
    return path == LOGIN_PATH or path.startswith(STATIC_PREFIX)


def wants_json(request: web.Request) -> bool:
    """A script rather than a person: it should get JSON errors, not a login page."""
    accept = request.headers.get("Accept", "")
    return (
        request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest"
        or "application/json" in accept
        or "text/event-stream" in accept
        or request.path.startswith(API_PREFIX)
    )


def json_error(status: int, code: str, message: str) -> web.Response:
    """The same error shape as the REST API's."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def safe_next(target: str | None) -> str:
    """Where to go after login: a console page only, never another site."""
    if (
        target
        and in_console(target.split("?", 1)[0])
        and not target.startswith("//")
        and "\\" not in target
        and not target.startswith(LOGIN_PATH)
        and not target.startswith(STATIC_PREFIX)
    ):
        return target
    return PREFIX + "/"


def login_url(next_path: str | None = None) -> str:
    target = safe_next(next_path)
    if target == PREFIX + "/":
        return LOGIN_PATH
    return f"{LOGIN_PATH}?{urlencode({'next': target})}"


def see_other(location: str) -> web.Response:
    """A 303 to ``location`` that can carry cookies (a raised HTTPSeeOther is for no-cookie
    redirects; returning one is deprecated in aiohttp)."""
    return web.Response(status=303, headers={"Location": location})


def current_session(request: web.Request) -> ConsoleSession:
    """The request's session; 401 if the route was reached without one (a bug)."""
    if SESSION not in request:
        raise web.HTTPUnauthorized(text="login required")
    return request[SESSION]


def current_officer(request: web.Request) -> Officer:
    """The logged-in officer of a console request."""
    return current_session(request).officer


def require_role(request: web.Request, role: Role) -> Officer:
    """The officer, if their role is ``role`` or higher; otherwise 403."""
    officer = current_officer(request)
    if officer.role < role:
        raise web.HTTPForbidden(reason="role too low")
    return officer


async def _csrf_token_sent(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # aiohttp keeps the parsed form, so the handler reads it again for free.
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def csrf_matches(sent: str, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request.path):
        return await handler(request)
    session = await request.app[AUTH].session(request.cookies.get(COOKIE, ""))
    if session is None:
        if wants_json(request):
            return json_error(401, "unauthorized", "login required")
        next_path = request.path_qs if request.method in _SAFE_METHODS else None
        response = see_other(login_url(next_path))
        if COOKIE in request.cookies:
            response.del_cookie(COOKIE, path=PREFIX)
        return response
    request[SESSION] = session
    if request.method not in _SAFE_METHODS:
        sent = await _csrf_token_sent(request)
        if not csrf_matches(sent, session.csrf_token):
            raise web.HTTPForbidden(reason="CSRF token missing or wrong")
    return await handler(request)

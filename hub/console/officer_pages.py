"""The console's own pages: login, logout, an officer's own password and the audit
log (the home page is the inbox, in ``hub.console.inbox_pages``).

The login form has no session yet, so it is protected against cross-site posting
by a double-submit token: a random value in a SameSite=Strict cookie that the form
must repeat. Without it another site could log a browser into an account of its
choosing.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from hub.client_ip import client_ip, trusted_networks
from hub.console.console_deps import CONTEXT
from hub.console.officer_login import AUTH, NewSession, Role
from hub.console.pages import render
from hub.console.session import (
    COOKIE,
    LOGIN_PATH,
    PREFIX,
    current_session,
    local,
    require_role,
    safe_next,
    see_other,
)
from hub.console.throttle import Throttled
from hub.store import audit as audit_store
from hub.store import officers as officer_store

LOGIN_COOKIE = "omnihub_console_login"
LOGIN_FIELD = "form_token"
AUDIT_PAGE_SIZE = 200
_MAX_FIELD = 1024


def _secure(request: web.Request) -> bool:
    return request.app[CONTEXT].settings.server.public_url.startswith("https://")


def _remote(request: web.Request) -> str:
    """The client's address behind the configured proxies: what logins are throttled by."""
    proxies = request.app[CONTEXT].settings.server.trusted_proxies
    return client_ip(request, trusted_networks(proxies))


def _wait(response: web.Response, throttled: Throttled | None) -> web.Response:
    if throttled is not None:
        response.headers["Retry-After"] = str(throttled.seconds)
    return response


def _login_form(
    request: web.Request,
    *,
    status: int = 200,
    error: str = "",
    username: str = "",
    next_: str = "",
    throttled: Throttled | None = None,
) -> web.Response:
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not (0 < len(token) <= 64) or status == 403:
        token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        username=username,
        next=safe_next(next_) if next_ else "",
        form_token=token,
        retry_after=throttled.seconds if throttled else 0,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        path=LOGIN_PATH,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
    )
    return _wait(response, throttled)


async def login_page(request: web.Request) -> web.StreamResponse:
    next_ = request.query.get("next", "")
    cookie = request.cookies.get(COOKIE, "")
    if cookie and await request.app[AUTH].session(cookie) is not None:
        raise web.HTTPSeeOther(safe_next(next_))
    return _login_form(request, next_=next_)


def _field(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value[:_MAX_FIELD] if isinstance(value, str) else ""


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = _field(form, "username"), _field(form, "password")
    next_ = _field(form, "next")
    sent, expected = _field(form, LOGIN_FIELD), request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return _login_form(
            request, status=403, error="form_expired", username=username, next_=next_
        )
    new = await request.app[AUTH].login(username, password, remote=_remote(request))
    if isinstance(new, Throttled):
        return _login_form(
            request, status=429, error="throttled", username=username, next_=next_, throttled=new
        )
    if new is None:
        return _login_form(request, status=401, error="invalid", username=username, next_=next_)
    response = see_other(safe_next(next_))
    _set_session_cookie(request, response, new)
    response.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


def _set_session_cookie(
    request: web.Request, response: web.StreamResponse, new: NewSession
) -> None:
    # No max-age: the cookie goes when the browser closes (shared counter PCs); the
    # server ends the session at expires_at whatever the browser keeps.
    response.set_cookie(
        COOKIE,
        new.cookie,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
    )


async def logout(request: web.Request) -> web.StreamResponse:
    await request.app[AUTH].logout(current_session(request), remote=_remote(request))
    response = see_other(LOGIN_PATH)
    response.del_cookie(COOKIE, path=PREFIX)
    return response


PASSWORD_PATH = PREFIX + "/password"
PASSWORD_ERRORS = {
    "wrong_password": 401,
    "weak": 400,
    "same": 400,
    "mismatch": 400,
    "throttled": 429,
}


async def password_page(request: web.Request) -> web.StreamResponse:
    done = request.query.get("ok") == "1"
    return render(request, "password.html", active="password", done=done, error="")


async def password_submit(request: web.Request) -> web.StreamResponse:
    """An officer's own new password (CSRF checked by the console middleware)."""
    form = await request.post()
    current, new = _field(form, "current"), _field(form, "new")
    error: str | Throttled | None = "mismatch" if new != _field(form, "confirm") else None
    if error is None:
        error = await request.app[AUTH].change_password(
            current_session(request), current, new, remote=_remote(request)
        )
    if error is not None:
        throttled = error if isinstance(error, Throttled) else None
        code = "throttled" if isinstance(error, Throttled) else error
        response = render(
            request,
            "password.html",
            status=PASSWORD_ERRORS[code],
            active="password",
            done=False,
            error=code,
            retry_after=throttled.seconds if throttled else 0,
        )
        return _wait(response, throttled)
    return see_other(PASSWORD_PATH + "?ok=1")


async def to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(PREFIX + "/")


async def audit_log(request: web.Request) -> web.StreamResponse:
    """The newest audit events, for supervisors and admins; ``?officer=ID`` filters."""
    require_role(request, Role.SUPERVISOR)
    raw = request.query.get("officer", "")
    officer_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    ctx = request.app[CONTEXT]
    async with ctx.db.engine.connect() as conn:
        events = await audit_store.recent(conn, AUDIT_PAGE_SIZE, officer_id=officer_id)
        officers = await officer_store.all_officers(conn)
    return render(
        request,
        "audit.html",
        active="audit",
        events=events,
        names={o.id: o.username for o in officers},
        officers=officers,
        selected=officer_id,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(local(LOGIN_PATH), login_page)
    app.router.add_post(local(LOGIN_PATH), login_submit)
    app.router.add_post(local(PREFIX + "/logout"), logout)
    app.router.add_get(local(PREFIX), to_home)
    app.router.add_get(local(PREFIX + "/audit"), audit_log)
    app.router.add_get(local(PASSWORD_PATH), password_page)
    app.router.add_post(local(PASSWORD_PATH), password_submit)

"""Console pages: Jinja2 with autoescape on, error pages, and the security headers.

Every page goes through :func:`render`, which gives the base layout what it needs
(the officer, the CSRF token, the active nav entry), so a handler passes only its own
data. Autoescape is on for every template: a citizen's text can never become markup.
The headers forbid inline scripts and styles, framing, and caching of pages.
"""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from hub.console.officer_login import ConsoleSession, Role
from hub.console.session import (
    SESSION,
    STATIC_PREFIX,
    Handler,
    json_error,
    wants_json,
)

PAGES: web.AppKey[jinja2.Environment] = web.AppKey("console_pages", jinja2.Environment)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def console_templates(templates: Path) -> Path:
    return templates / "console"


def page_environment(templates: Path, timezone: str) -> jinja2.Environment:
    """The console's template environment; ``wita`` formats a UTC time for officers."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(console_templates(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = ZoneInfo(timezone)

    def wita(value: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    env.filters["wita"] = wita
    env.globals["Role"] = Role
    return env


def render(
    request: web.Request,
    template: str,
    *,
    status: int = 200,
    active: str = "",
    **context: Any,
) -> web.Response:
    """``template`` (a file in templates/console) as an HTML response.

    The layout gets ``officer`` and ``csrf_token`` (None without a session) and
    ``active``, the nav entry to highlight (``inbox``, ``tickets``, ``dashboard``,
    ``audit``).
    """
    session: ConsoleSession | None = request.get(SESSION)
    page = (
        request.app[PAGES]
        .get_template(template)
        .render(
            officer=None if session is None else session.officer,
            csrf_token=None if session is None else session.csrf_token,
            active=active,
            **context,
        )
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


@web.middleware
async def console_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A refused or missing console page is a page (or JSON for scripts), not a bare text."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or request.path.startswith(STATIC_PREFIX):
            raise
        if wants_json(request):
            code = HTTPStatus(error.status).phrase.lower().replace(" ", "_")
            return json_error(error.status, code, error.reason)
        response = render(request, "error.html", status=error.status, error_status=error.status)
        if "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: on every console response, errors and redirects included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(STATIC_PREFIX):
        response.headers.setdefault("Cache-Control", "no-cache")
    else:
        response.headers["Cache-Control"] = "no-store"

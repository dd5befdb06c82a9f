"""Mounting the console on the hub's application under ``/console``.

Other console features add their routes to the same application after
``setup_console`` (paths under ``/console/``); the middleware then guards them
too, with no extra code: session, CSRF, security headers and error pages.
"""

from __future__ import annotations

from aiohttp import web

from hub.console import dashboard, inbox, tickets, views
from hub.console.auth import AUTH, ConsoleAuth
from hub.console.context import CONTEXT, ConsoleContext
from hub.console.pages import (
    PAGES,
    add_security_headers,
    console_errors_middleware,
    console_templates,
    page_environment,
)
from hub.console.session import STATIC_PREFIX, console_middleware


def setup_console(app: web.Application, ctx: ConsoleContext) -> None:
    """Routes, static files, middlewares and headers of the console, on ``app``.

    The middlewares are appended after the app's own (errors, REST API), so they
    run innermost and act only on ``/console`` paths.
    """
    app[CONTEXT] = ctx
    app[AUTH] = ConsoleAuth(ctx)
    app[PAGES] = page_environment(ctx.templates, ctx.settings.server.timezone)
    app.middlewares.append(console_errors_middleware)
    app.middlewares.append(console_middleware)
    app.on_response_prepare.append(add_security_headers)
    views.add_routes(app)
    inbox.add_routes(app)
    tickets.add_routes(app)
    dashboard.add_routes(app)
    app.router.add_static(
        STATIC_PREFIX.rstrip("/"),
        console_templates(ctx.templates) / "static",
        follow_symlinks=False,
    )

"""The console as an aiohttp application of its own, mounted by ``hub.app`` at ``/console``.

Every console feature adds its routes here (``add_routes``, paths through
``session.local``); the console's middlewares then guard them with no extra code:
session, CSRF, security headers and error pages. They belong to this application
only, so the REST API and the webhooks never pass through them.
"""

from __future__ import annotations

from aiohttp import web

from hub.console import announcement_pages, dashboard, inbox_pages, officer_pages, ticket_pages
from hub.console.console_deps import CONTEXT, ConsoleContext
from hub.console.officer_login import AUTH, ConsoleAuth
from hub.console.pages import (
    PAGES,
    add_security_headers,
    console_errors_middleware,
    console_templates,
    page_environment,
)
from hub.console.session import PREFIX, STATIC_PREFIX, console_middleware, local

CONSOLE_PREFIX = PREFIX
"""Where ``console_app`` is to be mounted; its links and redirects assume it."""


def console_app(ctx: ConsoleContext) -> web.Application:
    """Routes, static files, middlewares and headers of the console.

    The error pages middleware comes first (outermost), so it also renders the
    session middleware's refusals.
    """
    app = web.Application(middlewares=[console_errors_middleware, console_middleware])
    app[CONTEXT] = ctx
    app[AUTH] = ConsoleAuth(ctx)
    app[PAGES] = page_environment(ctx.templates, ctx.settings.server.timezone)
    app.on_response_prepare.append(add_security_headers)
    officer_pages.add_routes(app)
    inbox_pages.add_routes(app)
    ticket_pages.add_routes(app)
    dashboard.add_routes(app)
    announcement_pages.add_routes(app)
    app.router.add_static(
        local(STATIC_PREFIX.rstrip("/")),
        console_templates(ctx.templates) / "static",
        follow_symlinks=False,
    )
    return app

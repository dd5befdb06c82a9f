"""The REST API for the mall's own systems (queue display, kiosk, other apps).

Mounted by ``hub.app`` under ``/api/v1``; it reads the catalogue and works through
``BookingService`` and ``CareService`` only, never through channels or dialogs.
"""

from __future__ import annotations

from aiohttp import web

from hub.api.auth import api_auth_middleware
from hub.api.context import API, ApiContext
from hub.api.errors import api_errors_middleware
from hub.api.routes import routes
from hub.api.scopes import Scope
from hub.api.tokens import NewToken, TokenError, TokenStore

MIDDLEWARES = (api_errors_middleware, api_auth_middleware)
"""In this order, inside the app's own error middleware: errors render auth's 401."""


def setup_api(app: web.Application, context: ApiContext) -> None:
    app[API] = context
    app.router.add_routes(routes())


__all__ = [
    "API",
    "MIDDLEWARES",
    "ApiContext",
    "NewToken",
    "Scope",
    "TokenError",
    "TokenStore",
    "setup_api",
]

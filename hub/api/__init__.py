"""The REST API for the mall's own systems (queue display, kiosk, other apps).

An aiohttp application of its own, ``api_app``, mounted by ``hub.app`` under
``PREFIX`` (``/api/v1``) with its own middlewares, so no other path passes through
them. It reads the catalogue and works through ``BookingService`` and
``CareService`` only, never through channels or dialogs.
"""

from __future__ import annotations

from aiohttp import web

from hub.api.bearer import api_auth_middleware
from hub.api.deps import API, ApiContext
from hub.api.errors import api_errors_middleware
from hub.api.openapi import openapi_json
from hub.api.operations import OPENAPI_PATH, OPERATIONS, PREFIX
from hub.api.scopes import Scope
from hub.api.tokens import NewToken, TokenError, TokenStore


def api_app(context: ApiContext) -> web.Application:
    """The API, to mount at ``PREFIX``: the document and every operation of the table.

    The errors middleware comes first (outermost), so it also renders auth's 401 and 403.
    """
    app = web.Application(middlewares=[api_errors_middleware, api_auth_middleware])
    app[API] = context
    app.router.add_get(OPENAPI_PATH.removeprefix(PREFIX), openapi_json)
    for operation in OPERATIONS:
        path = operation.path.removeprefix(PREFIX)
        if operation.method == "GET":
            app.router.add_get(path, operation.handler)  # and HEAD, as aiohttp does
        else:
            app.router.add_route(operation.method, path, operation.handler)
    return app


__all__ = [
    "API",
    "PREFIX",
    "ApiContext",
    "NewToken",
    "Scope",
    "TokenError",
    "TokenStore",
    "api_app",
]

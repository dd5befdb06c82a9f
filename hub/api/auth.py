"""Bearer-token authentication for ``/api/v1/*``; only the OpenAPI document is public.

The document is public so a client can be generated or checked before a token is
issued; it describes the API, not the mall's data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.api.context import API
from hub.api.errors import ApiError, in_api

OPENAPI_PATH = "/api/v1/openapi.json"
API_CALLER: web.RequestKey[str] = web.RequestKey("api_caller", str)
"""The verified token's name, so a change made through the API records which system made it."""
_CHALLENGE = 'Bearer realm="omnihub"'


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case)."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def unauthorized(message: str, *, invalid: bool) -> ApiError:
    # RFC 6750: a request without credentials gets the bare challenge, a bad token its error.
    challenge = _CHALLENGE + (', error="invalid_token"' if invalid else "")
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": challenge})


@web.middleware
async def api_auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No API route (unknown ones included) answers before the token is checked."""
    if not in_api(request) or request.path == OPENAPI_PATH:
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise unauthorized("send an API token as 'Authorization: Bearer <token>'", invalid=False)
    record = await request.app[API].tokens.verify(token)
    if record is None:
        raise unauthorized("the API token is unknown or revoked", invalid=True)
    request[API_CALLER] = record.name
    return await handler(request)

"""Bearer-token authentication and scopes for ``/api/v1/*``; only the OpenAPI document is public.

The document is public so a client can be generated or checked before a token is
issued; it describes the API, not the mall's data. A valid token without the scope
its route needs (``hub.api.operations``) gets 403 naming that scope, so a queue
display with ``bookings:read`` cannot read a complaint. The middleware belongs to the
API's own application: nothing outside ``/api/v1`` passes through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from hub.api import shapes
from hub.api.deps import API, API_CALLER, API_SCOPES
from hub.api.errors import ApiError, api_error
from hub.api.operations import OPENAPI_PATH, allowing_scopes, required_scope
from hub.api.scopes import Scope, granted

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
    return api_error(401, "unauthorized", message, {"WWW-Authenticate": challenge})


class InsufficientScope(ApiError):
    """403 for a valid token without the route's scope; the body names the scope (RFC 6750)."""

    def __init__(self, scope: Scope | None, instead: tuple[Scope, ...] = ()) -> None:
        """``instead``: other scopes that would allow the route too, named in the message."""
        if scope is None:
            message = "this route declares no scope, so no token may use it"
            challenge = f'{_CHALLENGE}, error="insufficient_scope"'
        else:
            others = "".join(f" (or {s.value!r})" for s in instead)
            message = (
                f"the API token lacks the scope {scope.value!r}{others} this route needs; make "
                f"a token with 'omnihub token create NAME --scope {scope.value}'"
            )
            challenge = f'{_CHALLENGE}, error="insufficient_scope", scope="{scope.value}"'
        body = shapes.ScopeErrorDetail(
            code="insufficient_scope", message=message, scope=None if scope is None else scope.value
        )
        super().__init__(403, shapes.ScopeError(error=body), {"WWW-Authenticate": challenge})
        self.scope = scope


@web.middleware
async def api_auth_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No API route (unknown ones included) answers before the token is checked."""
    if request.path == OPENAPI_PATH:
        return await handler(request)
    token = bearer_token(request)
    if token is None:
        raise unauthorized("send an API token as 'Authorization: Bearer <token>'", invalid=False)
    record = await request.app[API].tokens.verify(token)
    if record is None:
        raise unauthorized("the API token is unknown or revoked", invalid=True)
    request[API_CALLER] = record.name
    scopes = granted(record.scopes)
    request[API_SCOPES] = scopes
    match = request.match_info
    if match.http_exception is None:  # an unknown path or method stays a 404 or 405
        resource = match.route.resource
        method, template = match.route.method, "" if resource is None else resource.canonical
        needed = None if resource is None else required_scope(method, template)
        allowing = allowing_scopes(method, template)
        if needed is None or scopes.isdisjoint(allowing):
            raise InsufficientScope(needed, tuple(s for s in Scope if s in allowing - {needed}))
    return await handler(request)

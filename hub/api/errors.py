"""The API's error bodies (``hub.api.shapes``: ``Error``, ``ScopeError``, ``TransitionError``)
for every failure.

A client of the API (a kiosk, a queue display) gets JSON it can parse whatever went
wrong, aiohttp's own 404 and 405 included, and never a stack trace. The middleware
belongs to the API's own application, so no other path passes through it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from hub.api.shapes import Error, ErrorDetail, ScopeError, TransitionError

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}

ErrorBody = Error | ScopeError | TransitionError


class ApiError(Exception):
    """Raised by a handler to answer with an error; the middleware renders it."""

    def __init__(
        self, status: int, body: ErrorBody, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(body.error.message)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def api_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> ApiError:
    """An error with the common body, ``{"error": {"code": ..., "message": ...}}``."""
    return ApiError(status, Error(error=ErrorDetail(code=code, message=message)), headers)


def bad_request(message: str) -> ApiError:
    return api_error(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return api_error(404, "not_found", message)


def error_response(error: ApiError) -> web.Response:
    return web.json_response(
        error.body.model_dump(mode="json"), status=error.status, headers=error.headers
    )


@web.middleware
async def api_errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every failure under ``/api/v1`` as an error body."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        code = _HTTP_CODES.get(error.status, "http_error")
        return error_response(api_error(error.status, code, error.reason, headers))
    except Exception:
        log.exception("API request failed", extra={"path": request.path})
        return error_response(
            api_error(500, "internal_error", "internal error; the hub's log has details")
        )

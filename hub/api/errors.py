"""The API's one error shape, ``{"error": {"code": ..., "message": ...}}``, for every failure.

A client of the API (a kiosk, a queue display) gets JSON it can parse whatever went
wrong, aiohttp's own 404 and 405 included, and never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

API_PREFIX = "/api/v1/"
log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class ApiError(Exception):
    """Raised by a handler to answer with an error; the middleware renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """``details``: more fields of the error object, for a client to act on (a scope)."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = dict(details or {})


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
) -> web.Response:
    error = {"code": code, "message": message, **(details or {})}
    return web.json_response({"error": error}, status=status, headers=headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def in_api(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


@web.middleware
async def api_errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every API failure as the JSON error body; other paths pass through untouched."""
    if not in_api(request):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.code, error.message, error.headers, error.details)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        code = _HTTP_CODES.get(error.status, "http_error")
        return error_response(error.status, code, error.reason, headers)
    except Exception:
        log.exception("API request failed", extra={"path": request.path})
        return error_response(500, "internal_error", "internal error; the hub's log has details")

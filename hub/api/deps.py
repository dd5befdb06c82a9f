"""What the API's handlers depend on: the hub's services, and who is calling.

``ApiContext`` is kept on the API's own application under ``API``; the auth
middleware puts the verified caller on each request (``API_CALLER``, ``API_SCOPES``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from hub.announcements import Announcements
from hub.api.scopes import Scope
from hub.api.tokens import TokenStore
from hub.booking import BookingService
from hub.care.service import CareService


@dataclass(frozen=True, slots=True)
class ApiContext:
    bookings: BookingService
    """Also the catalogue in use: ``bookings.catalogue`` follows a reload."""
    tokens: TokenStore
    care: CareService | None = None
    """CARE tickets; without it the ticket routes answer 503 (``care_unavailable``)."""
    announcements: Announcements | None = None
    """Announcements; without it their routes answer 503 (``announcements_unavailable``)."""
    announcement_started: Callable[[], None] | None = None
    """Called when an approval started a sending, so the broadcaster looks now rather than
    at its next tick (the broadcaster lives in the pipeline, which the API cannot import)."""


API: web.AppKey[ApiContext] = web.AppKey("api", ApiContext)
API_CALLER: web.RequestKey[str] = web.RequestKey("api_caller", str)
"""The verified token's name, so a change made through the API records which system made it."""
API_SCOPES: web.RequestKey[frozenset[Scope]] = web.RequestKey("api_scopes", frozenset)
"""What the verified token may do; the ticket handlers read it to withhold confidential text."""

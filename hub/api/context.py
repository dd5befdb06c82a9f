"""What the API's handlers work with, kept on the aiohttp application under ``API``."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

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


API: web.AppKey[ApiContext] = web.AppKey("api", ApiContext)

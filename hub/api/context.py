"""What the API's handlers work with, kept on the aiohttp application under ``API``."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from hub.api.tokens import TokenStore
from hub.booking import BookingService


@dataclass(frozen=True, slots=True)
class ApiContext:
    bookings: BookingService
    """Also the catalogue in use: ``bookings.catalogue`` follows a reload."""
    tokens: TokenStore


API: web.AppKey[ApiContext] = web.AppKey("api", ApiContext)

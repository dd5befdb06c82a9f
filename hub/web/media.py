"""Images the hub serves for its own replies: the booking code's QR code.

A confirmed booking carries a QR code of its code for check-in at the mall.
Telegram, Twilio and Meta fetch media by absolute URL, so the hub draws it at
``GET /media/qr/<code>.png`` rather than uploading it to each provider.

The endpoint never looks anything up: it draws whatever well-formed code it is
given, so it answers the same for a booked code and for one nobody holds, and
reveals nothing about which codes exist. Only a string that is not a code at
all (see ``hub.booking.codes.is_code``) gets 404.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from aiohttp import web

from hub.booking.codes import QR_PATH_PREFIX, is_code, qr_path

__all__ = ["add_media_routes", "qr_path", "qr_png"]

QR_SCALE = 8
"""Pixels per module: a version-1 code is 232 px, clear on a phone screen held to a scanner."""

QR_BORDER = 4
"""The quiet zone the QR standard asks for, in modules; scanners misread a tighter one."""

QR_ERROR = "m"
"""At least level M (15 % recoverable), for a cracked or smudged phone screen; segno
raises it further when that costs no size (a booking code gets H at version 1)."""

CACHE_CONTROL = "public, max-age=86400"
"""The image of a code never changes; a day spares re-fetches by providers and browsers."""


@lru_cache(maxsize=256)
def qr_png(code: str) -> bytes:
    """``code`` as a PNG QR code (never a Micro QR, which many phone scanners cannot read)."""
    buffer = io.BytesIO()
    segno.make_qr(code, error=QR_ERROR).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


async def qr_image(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    code = name.removesuffix(".png")
    if not name.endswith(".png") or not is_code(code):
        return web.json_response({"error": "no such image"}, status=404)
    return web.Response(
        body=qr_png(code),
        content_type="image/png",
        headers={"Cache-Control": CACHE_CONTROL},
    )


def add_media_routes(app: web.Application) -> None:
    """Mount ``GET /media/qr/<code>.png`` on ``app``."""
    app.router.add_get(QR_PATH_PREFIX + "{name}", qr_image)

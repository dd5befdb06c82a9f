"""A request body read as its shape, and a shape sent as the answer.

The body is parsed by ``json.loads`` first, so text that is no JSON (or not UTF-8, or
nested too deep) gets the same 400 as before, then validated by its model; either
failure is a 400 ``bad_request`` worded by the shape (``RequestShape.refusal``).
"""

from __future__ import annotations

import json
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hub.api.errors import bad_request
from hub.api.shapes import RequestShape

Body = TypeVar("Body", bound=RequestShape)


async def read_body(request: web.Request, shape: type[Body]) -> Body:
    try:
        raw = json.loads(await request.text())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise bad_request(f"the body must be JSON: {shape.USAGE}") from None
    try:
        return shape.model_validate(raw)
    except ValidationError as error:
        raise bad_request(shape.refusal(error.errors())) from None


def answer(shape: BaseModel) -> web.Response:
    """200 with ``shape`` as JSON: the keys, order and nulls its model gives."""
    return web.json_response(shape.model_dump(mode="json"))

"""The applications mounted on the hub's: the REST API's and the console's."""

from __future__ import annotations

from aiohttp import web


def mounted(app: web.Application, prefix: str) -> web.Application:
    """The sub-application ``app`` mounts at ``prefix`` (``/api/v1``, ``/console``)."""
    for resource in app.router.resources():
        info = resource.get_info()
        sub = info.get("app")
        if info.get("prefix") == prefix and isinstance(sub, web.Application):
            return sub
    raise LookupError(f"nothing is mounted at {prefix}")

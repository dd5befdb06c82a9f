"""Fake provider servers that record what the hub sent them."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer


class LocalServer:
    """Serving a fake on a free loopback port: what every fake provider shares."""

    _server: TestServer | None

    async def _serve(self, app: web.Application) -> None:
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    def _url(self, path: str = "") -> str:
        """An absolute URL on the fake, without a trailing slash."""
        assert self._server is not None, "start() first"
        return str(self._server.make_url(path)).rstrip("/")

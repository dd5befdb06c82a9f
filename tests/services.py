"""Where the real Redis and PostgreSQL for the tests live, and whether they must.

Tests that need a server skip when it is not reachable, unless
``OMNIHUB_TEST_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

REDIS_URL = os.environ.get("OMNIHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "OMNIHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1.0
        ):
            return True
    except OSError:
        return False


def require(name: str, url: str, default_port: int) -> str:
    """Return ``url`` if its server answers; otherwise skip (or fail in CI)."""
    if _reachable(url, default_port):
        return url
    unavailable(f"{name} not reachable at {url}")


def unavailable(message: str) -> NoReturn:
    """Skip a test whose server or program is missing; fail instead when
    ``OMNIHUB_TEST_REQUIRE_SERVICES=1`` (CI), so nothing silently stops being tested."""
    if os.environ.get("OMNIHUB_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " and OMNIHUB_TEST_REQUIRE_SERVICES=1")
    pytest.skip(message)


def redis_url() -> str:
    return require("Redis", REDIS_URL, 6379)


def postgres_url() -> str:
    return require("PostgreSQL", POSTGRES_URL, 5432)


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to a port the kernel chose, for a server that must know its port
    before it starts (e.g. for ``server.public_url``).

    Hand it over instead of the number: ``TestServer(app, port=sock.getsockname()[1],
    socket_factory=lambda *_: sock)``. Probing a free port, closing it and binding it
    again later races with the other xdist workers.
    """
    sock = socket.socket()
    sock.bind((host, 0))
    return sock

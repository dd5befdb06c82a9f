"""The suite refuses real network calls, so no test can depend on a provider."""

from __future__ import annotations

import socket

import pytest


def test_connecting_beyond_loopback_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="may not connect"):
        sock.connect(("203.0.113.10", 443))


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
            assert client.getpeername() == server.getsockname()

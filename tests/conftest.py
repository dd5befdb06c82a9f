"""Shared fixtures: settings on a fresh SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from hub.config import Settings, load_config
from tests.services import postgres_url


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    base = postgres_url()
    name = "omnihub_t_" + uuid.uuid4().hex[:12]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(base))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    prefix, _, _ = base.rpartition("/")
    yield f"{prefix}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def nlu_model_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One trained NLU model for the whole run: training takes seconds, loading milliseconds."""
    return str(tmp_path_factory.mktemp("nlu") / "model.joblib")


@pytest.fixture
def make_settings(sqlite_url: str, nlu_model_path: str) -> Callable[..., Settings]:
    """Settings for a test: fast outbox retries, the given storage URL."""

    def make(storage_url: str | None = None, **sections: Any) -> Settings:
        data: dict[str, Any] = {
            "storage": {"url": storage_url or sqlite_url},
            "nlu": {"model_path": nlu_model_path},
            "outbox": {
                "backoff_base_seconds": 0.05,
                "backoff_max_seconds": 0.2,
                "poll_seconds": 0.05,
            },
            "server": {"shutdown_grace_seconds": 5},
        }
        for key, value in sections.items():
            data[key] = {**data.get(key, {}), **value}
        return load_config(None, **data)

    return make


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not leftover, leftover


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own OMNIHUB_* variables must not change what tests see."""
    import os

    for name in list(os.environ):
        if name.startswith("OMNIHUB_") and not name.startswith("OMNIHUB_TEST_"):
            monkeypatch.delenv(name)


_LOCAL_PREFIXES = ("127.", "::1", "localhost", "0.0.0.0")


@pytest.fixture(autouse=True)
def _no_network_beyond_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that reaches for a real provider fails instead of leaving the machine."""
    import socket

    original = socket.socket.connect
    original_ex = socket.socket.connect_ex

    def _check(address: Any) -> None:
        if isinstance(address, tuple) and address:
            host = str(address[0])
            if not host.startswith(_LOCAL_PREFIXES):
                raise ConnectionRefusedError(f"tests may not connect to {host}")

    def connect(self: socket.socket, address: Any) -> None:
        _check(address)
        original(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(address)
        return original_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)

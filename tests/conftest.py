"""Shared fixtures: settings on a fresh SQLite file or a fresh PostgreSQL database.

The suite runs in parallel (pytest-xdist, see ``pytest_cmdline_main`` below), so
nothing here may be shared between tests through a fixed name: databases, Redis
keys and channels, ports and files are all made unique per test (or per worker).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis
from playwright.async_api import Browser, async_playwright

from hub.config import Settings, load_config
from hub.coordination.redis import RedisCoordinator
from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.fakes.smtp_relay import SmtpRelay
from tests.services import postgres_url, redis_url

WORKERS_ENV = "OMNIHUB_TEST_WORKERS"


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Run the suite in parallel by default when pytest-xdist is there and nobody chose.

    ``-n N`` / ``-n 0`` / ``-p no:xdist`` / ``--pdb`` keep their usual meaning;
    ``OMNIHUB_TEST_WORKERS`` sets the default number of workers (``auto`` = one per core).
    Without it, only given test files (``pytest tests/test_x.py::test_y``) run serially:
    starting the workers costs more than they save. Set here rather than in ``addopts`` so that
    ``-p no:xdist`` still parses.
    """
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return
    option = config.option
    if getattr(option, "numprocesses", None) is not None or getattr(option, "usepdb", False):
        return
    if option.collectonly or option.distload or option.tx:
        return
    workers = os.environ.get(WORKERS_ENV, "")
    if not workers:
        if config.args and all(arg.split("::")[0].endswith(".py") for arg in config.args):
            return
        workers = "auto"
    option.numprocesses = workers if workers in ("auto", "logical") else int(workers)
    if option.dist == "no":
        option.dist = "loadgroup"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """The test's own SQLite file; nothing is in it until someone writes it."""
    return tmp_path / "hub.db"


@pytest.fixture
def sqlite_url(sqlite_path: Path) -> str:
    return f"sqlite+aiosqlite:///{sqlite_path}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with today's schema, migrated once per worker by the hub's own start.

    Running the Alembic migrations costs a hub about 0.12 s; ``make_settings`` gives a
    hub on the test's default SQLite file a copy of this one instead. The migrations
    themselves are still tested for real (tests/test_store.py migrates ``db_url``).
    """
    from hub.app import prepare_database
    from hub.store import Database

    path = tmp_path_factory.mktemp("schema") / "migrated.db"

    async def migrate_once() -> None:
        db = Database.open(f"sqlite+aiosqlite:///{path}")
        try:
            await prepare_database(db)
        finally:
            await db.close()

    asyncio.run(migrate_once())
    beside = sorted(p.name for p in path.parent.iterdir() if p != path)
    assert not beside, f"SQLite left {beside} beside the schema file: a copy would miss them"
    return path


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
    """One trained NLU model for the whole run: training takes seconds, loading milliseconds.

    Trained by the first hub that needs it; one per xdist worker (each has its own tmp).
    """
    return str(tmp_path_factory.mktemp("nlu") / "model.joblib")


@pytest.fixture(scope="session")
def trained_nlu_model(nlu_model_path: str) -> str:
    """``nlu_model_path``, trained now: give it to hub subprocesses (OMNIHUB_NLU__MODEL_PATH)
    so each does not train its own model for seconds."""
    from hub.pipeline.understanding import load_builtin_engine

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("OMNIHUB_") and not name.startswith("OMNIHUB_TEST_"):
                patch.delenv(name)
        load_builtin_engine(load_config(None, nlu={"model_path": nlu_model_path}))
    return nlu_model_path


@pytest.fixture
def make_settings(
    sqlite_path: Path, sqlite_url: str, nlu_model_path: str, migrated_sqlite: Path
) -> Callable[..., Settings]:
    """Settings for a test: fast outbox retries, the given storage URL.

    On the test's default SQLite file, not yet made, the file starts as a copy of the
    worker's migrated schema (``migrated_sqlite``), so the hub skips the migrations. Any
    other storage (PostgreSQL, a file of the test's own, a file already written) is
    left alone: a hub migrates it as it always does."""

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
        settings = load_config(None, **data)
        if settings.storage.url == sqlite_url and not sqlite_path.exists():
            shutil.copy(migrated_sqlite, sqlite_path)
        return settings

    return make


@pytest.fixture(scope="session")
def _keys_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One generated keys file per worker, outside the checkout."""
    return str(tmp_path_factory.mktemp("keys") / "omnihub.keys")


@pytest.fixture(autouse=True)
def generated_keys_outside_checkout(_keys_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hubs built without a keys setting write theirs to a temporary file, not the checkout."""
    monkeypatch.setenv("OMNIHUB_SECURITY__KEYS_FILE", _keys_file)


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not leftover, leftover


def worker_name() -> str:
    """``gw0``, ``gw1``… under pytest-xdist; ``main`` in a serial run."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(autouse=True)
def hub_redis_prefix(monkeypatch: pytest.MonkeyPatch) -> str:
    """Hubs built in this test put their Redis keys and channels under their own prefix.

    The hub's default prefix is fixed, and Redis pub/sub channels are shared by all
    database numbers, so without this two workers' hubs would read each other's
    console news and share dedupe keys and locks. Every RedisCoordinator made
    without an explicit prefix during the test gets this one (the two "processes"
    of one test still share it).
    """
    prefix = f"omnihub-test:{worker_name()}:{uuid.uuid4().hex[:12]}:"
    defaults = RedisCoordinator.__init__.__kwdefaults__
    assert defaults is not None and "prefix" in defaults, "RedisCoordinator lost its prefix"
    monkeypatch.setitem(defaults, "prefix", prefix)
    return prefix


@pytest.fixture
def hub_redis_url(hub_redis_prefix: str) -> Iterator[str]:
    """The test Redis for hubs of this test; their keys are deleted afterwards."""
    url = redis_url()
    yield url
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{hub_redis_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own OMNIHUB_* variables must not change what tests see."""
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


@pytest.fixture
async def relay() -> AsyncIterator[SmtpRelay]:
    """A real SMTP server standing in for the mail relay the hub sends through."""
    server = await SmtpRelay().start()
    yield server
    await server.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium through Playwright (skips, or fails in CI, without it)."""
    executable = chromium_path()
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()

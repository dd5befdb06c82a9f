"""SQLite specifics: WAL, foreign keys, and write transactions that never deadlock.

SQLite's deferred transactions fail with "database is locked" when two
connections read and then try to write; every transaction therefore starts
with ``BEGIN IMMEDIATE`` and waits up to ``busy_timeout`` for the writer lock.
Within one process a single pooled connection serialises the work in FIFO
order, which is far faster than letting connections fight through SQLite's
sleeping busy handler; a second process still waits on ``busy_timeout``.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=1,
        max_overflow=0,
        pool_timeout=BUSY_TIMEOUT_MS / 1000,
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so we can make it IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(sync_engine.pool, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _error: Any) -> None:
        # A task cancelled mid-query gets its connection invalidated and closed. A
        # statement still open on it makes SQLite's close lazy: the connection lingers,
        # holding the write lock of its BEGIN IMMEDIATE, until garbage collection, and
        # every other writer waits busy_timeout for nothing. Rolling back first ends
        # the transaction (and aborts the open statement) before the close.
        try:
            dbapi_connection.rollback()
        except Exception:
            log.debug("rollback of an invalidated SQLite connection failed", exc_info=True)

    return engine

"""A throw-away PostgreSQL database next to the one a benchmark was pointed at."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_postgres(url: str) -> AsyncIterator[str]:
    """The URL of a new database beside ``url``'s, dropped afterwards whatever happens."""
    name = "omnihub_bench_" + uuid.uuid4().hex[:8]
    await _admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield f"{url.rpartition('/')[0]}/{name}"
    finally:
        await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""What hub processes share: dedupe keys, per-key locks and pub/sub.

The SQL database stays the truth; this layer only coordinates. One process uses
the in-process implementation; several processes share Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class LockTimeout(Exception):
    """A lock could not be taken in time (another process holds it)."""


class Coordinator(Protocol):
    async def seen(self, key: str) -> bool:
        """True when ``key`` was marked (and has not expired)."""

    async def mark_seen(self, key: str, ttl_seconds: float) -> None:
        """Remember ``key`` for ``ttl_seconds``."""

    def lock(
        self, key: str, *, lease_seconds: float = 30.0, wait_seconds: float = 60.0
    ) -> AbstractAsyncContextManager[None]:
        """Hold ``key`` exclusively; waiters get it in turn; raises LockTimeout."""

    async def publish(self, topic: str, data: str) -> int:
        """Send ``data`` to every current subscriber of ``topic``; returns how many."""

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Receive what is published on ``topic`` while the context is open."""

    async def ping(self) -> bool:
        """True when the backing service answers (always true in-process)."""

    async def close(self) -> None:
        """Release connections."""

"""What hub processes share: dedupe keys, per-key locks and pub/sub.

The SQL database stays the truth; this layer only coordinates. One process uses
the in-process implementation; several processes share Redis.
"""

from __future__ import annotations

from typing import Protocol

from hub.model import Coordination


class LockTimeout(Exception):
    """A lock could not be taken in time (another process holds it)."""


class Coordinator(Coordination, Protocol):
    """Fan-out and locks (:class:`hub.model.Coordination`), dedupe keys and health."""

    async def seen(self, key: str) -> bool:
        """True when ``key`` was marked (and has not expired)."""

    async def mark_seen(self, key: str, ttl_seconds: float) -> None:
        """Remember ``key`` for ``ttl_seconds``."""

    async def ping(self) -> bool:
        """True when the backing service answers (always true in-process)."""

    async def close(self) -> None:
        """Release connections."""

"""Coordination between hub processes: dedupe keys, per-key locks and pub/sub.

Callers depend on the :class:`Coordinator` protocol and get an implementation
from :func:`open_coordinator`, so one configuration switch (a Redis URL) moves
the hub from a single process to several.
"""

from __future__ import annotations

from hub.coordination.coordinator import Coordinator, LockTimeout
from hub.coordination.memory import MemoryCoordinator
from hub.coordination.redis import RedisCoordinator

__all__ = [
    "Coordinator",
    "LockTimeout",
    "MemoryCoordinator",
    "RedisCoordinator",
    "open_coordinator",
]


def open_coordinator(redis_url: str | None) -> Coordinator:
    """In-process coordination without a URL; Redis (shared by processes) with one."""
    if redis_url is None:
        return MemoryCoordinator()
    return RedisCoordinator(redis_url)

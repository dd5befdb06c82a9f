"""In-process coordination for a hub that runs as a single process.

Everything lives in dicts owned by one :class:`MemoryCoordinator`; nothing is
shared between processes, so a deployment with several workers must use Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from hub.coordination.coordinator import LockTimeout

logger = logging.getLogger(__name__)

DEFAULT_MAX_SEEN_KEYS = 100_000
DEFAULT_QUEUE_SIZE = 10_000
# How often a full sweep drops expired seen keys; between sweeps the size cap bounds memory.
DEFAULT_PRUNE_INTERVAL_SECONDS = 60.0


@dataclass
class _LockEntry:
    """One key's lock plus how many tasks hold or wait for it, so idle keys can be dropped."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _QueueIterator:
    """Iterates a subscriber's queue; stops once its subscription has closed."""

    def __init__(self, queue: asyncio.Queue[str | None]) -> None:
        self._queue = queue
        self._closed = False

    def __aiter__(self) -> _QueueIterator:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        """Stop iteration, waking a reader blocked on an empty queue."""
        self._closed = True
        # A full queue has no blocked reader, and the flag stops the next read anyway.
        with suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)


class MemoryCoordinator:
    """:class:`~hub.coordination.coordinator.Coordinator` for one process.

    ``lease_seconds`` is accepted but not enforced: a task cannot vanish while
    holding a lock, because the context manager always releases it, so there is no
    crashed holder to expire (unlike a crashed process with Redis).
    """

    def __init__(
        self,
        *,
        max_seen_keys: int = DEFAULT_MAX_SEEN_KEYS,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        prune_interval_seconds: float = DEFAULT_PRUNE_INTERVAL_SECONDS,
    ) -> None:
        if max_seen_keys < 1:
            raise ValueError("max_seen_keys must be at least 1")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._max_seen_keys = max_seen_keys
        self._queue_size = queue_size
        self._prune_interval = prune_interval_seconds
        # key -> monotonic expiry; insertion order is age order, so the first key is the oldest.
        self._seen: dict[str, float] = {}
        self._next_prune = time.monotonic() + prune_interval_seconds
        self._locks: dict[str, _LockEntry] = {}
        self._subscribers: dict[str, set[asyncio.Queue[str | None]]] = {}

    async def seen(self, key: str) -> bool:
        """True when ``key`` was marked and has not expired; expired keys are dropped."""
        expiry = self._seen.get(key)
        if expiry is None:
            return False
        if expiry <= time.monotonic():
            del self._seen[key]
            return False
        return True

    async def mark_seen(self, key: str, ttl_seconds: float) -> None:
        """Remember ``key``; re-marking refreshes it and moves it to the young end."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        now = time.monotonic()
        self._seen.pop(key, None)
        self._seen[key] = now + ttl_seconds
        if now >= self._next_prune or len(self._seen) > self._max_seen_keys:
            self._prune(now)

    def _prune(self, now: float) -> None:
        """Drop expired keys, then the oldest ones while over the cap.

        The full sweep runs at most once per interval so a cache full of live keys
        costs O(1) per insert (evicting the oldest) rather than a scan each time.
        """
        if now >= self._next_prune:
            self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            self._next_prune = now + self._prune_interval
        while len(self._seen) > self._max_seen_keys:
            del self._seen[next(iter(self._seen))]

    @asynccontextmanager
    async def lock(
        self, key: str, *, lease_seconds: float = 30.0, wait_seconds: float = 60.0
    ) -> AsyncIterator[None]:
        """Hold ``key`` exclusively; waiters are served first come, first served.

        asyncio.Lock hands over in FIFO order. The registry entry lives only while
        someone holds or waits, so many distinct keys do not accumulate.
        """
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _LockEntry()
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(wait_seconds):
                    await entry.lock.acquire()
            except TimeoutError:
                raise LockTimeout(f"lock not acquired within {wait_seconds}s") from None
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]

    async def publish(self, topic: str, data: str) -> int:
        """Queue ``data`` for each subscriber; returns how many received it.

        A subscriber whose queue is full (it stopped reading) misses the message
        rather than letting memory grow without bound.
        """
        delivered = 0
        for queue in self._subscribers.get(topic, ()):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                logger.warning("subscriber queue full, message dropped")
            else:
                delivered += 1
        return delivered

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        """Receive ``topic`` messages while open; registered before the body runs."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(self._queue_size)
        iterator = _QueueIterator(queue)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            yield iterator
        finally:
            iterator.close()
            queues = self._subscribers[topic]
            queues.discard(queue)
            if not queues:
                del self._subscribers[topic]

    async def ping(self) -> bool:
        """Always true: there is no service to lose."""
        return True

    async def close(self) -> None:
        """Nothing to release; present to satisfy the protocol."""

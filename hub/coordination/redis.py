"""Redis-backed coordination so several hub processes dedupe, lock and notify together.

Keys are namespaced under a prefix (``omnihub:`` by default) so the hub can share
a Redis with other applications. Keys may contain addresses such as phone
numbers, so nothing here logs a key.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import LockError, RedisError

from hub.coordination.coordinator import LockTimeout

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "omnihub:"


class _PubSubIterator:
    """Yields the data of ``message`` events, skipping (un)subscribe confirmations."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub
        self._closed = False

    def __aiter__(self) -> _PubSubIterator:
        return self

    async def __anext__(self) -> str:
        while not self._closed:
            message: dict[str, Any] | None = await self._pubsub.get_message(timeout=None)
            if message is not None and message.get("type") == "message":
                return str(message["data"])
        raise StopAsyncIteration

    def close(self) -> None:
        """Make further iteration stop instead of reading a closed connection."""
        self._closed = True


class RedisCoordinator:
    """:class:`~hub.coordination.coordinator.Coordinator` shared by processes through Redis."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        ping_timeout: float = 2.0,
        confirm_timeout: float = 5.0,
        lock_poll_seconds: float = 0.05,
    ) -> None:
        self._client: aioredis.Redis = aioredis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._ping_timeout = ping_timeout
        self._confirm_timeout = confirm_timeout
        self._lock_poll_seconds = lock_poll_seconds

    @property
    def prefix(self) -> str:
        """The namespace of this hub's keys; the rate limiter keeps its counters under it."""
        return self._prefix

    def _key(self, kind: str, name: str) -> str:
        """Namespace by kind too, so a dedupe key never collides with a lock of the same name."""
        return f"{self._prefix}{kind}:{name}"

    async def seen(self, key: str) -> bool:
        """True while the key marked by any process has not expired."""
        return bool(await self._client.exists(self._key("seen", key)))

    async def mark_seen(self, key: str, ttl_seconds: float) -> None:
        """SET with a millisecond expiry so Redis forgets the key on its own."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        await self._client.set(self._key("seen", key), 1, px=max(1, round(ttl_seconds * 1000)))

    @asynccontextmanager
    async def lock(
        self, key: str, *, lease_seconds: float = 30.0, wait_seconds: float = 60.0
    ) -> AsyncIterator[None]:
        """Hold ``key`` across processes; the lease frees it if this process dies.

        Waiters poll, so order among them is not guaranteed. If the body outlives
        the lease another process may have taken the key; that is logged on release.
        """
        if lease_seconds <= 0:
            # redis-py treats a zero timeout as "never expires"; refuse it.
            raise ValueError("lease_seconds must be positive")
        lock = self._client.lock(
            self._key("lock", key),
            timeout=lease_seconds,
            sleep=self._lock_poll_seconds,
            blocking_timeout=wait_seconds,
            thread_local=False,
        )
        if not await lock.acquire():
            raise LockTimeout(f"lock not acquired within {wait_seconds}s")
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:
                # Never include the key: it may contain a phone number.
                logger.warning("lock lease expired")

    async def publish(self, topic: str, data: str) -> int:
        """PUBLISH; Redis reports how many subscribers (in any process) received it."""
        receivers: int = await self._client.publish(self._key("topic", topic), data)
        return receivers

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        """Subscribe on a dedicated connection; confirmed before the body runs.

        Waiting for the server's confirmation means a publish made right after
        entering is delivered, whichever connection or process sends it.
        """
        channel = self._key("topic", topic)
        pubsub = self._client.pubsub()
        iterator = _PubSubIterator(pubsub)
        try:
            await pubsub.subscribe(channel)
            await self._await_confirmation(pubsub, "subscribe")
            yield iterator
        finally:
            iterator.close()
            try:
                if pubsub.connection is not None:
                    await pubsub.unsubscribe(channel)
                    await self._await_confirmation(pubsub, "unsubscribe")
            except (RedisError, OSError, TimeoutError):
                pass  # the connection is going away regardless
            finally:
                # redis-py leaves PubSub.aclose unannotated; give it its real type.
                aclose: Callable[[], Awaitable[None]] = pubsub.aclose
                await aclose()

    async def _await_confirmation(self, pubsub: PubSub, kind: str) -> None:
        """Read until the server confirms a (un)subscribe, or fail after a timeout."""
        deadline = time.monotonic() + self._confirm_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            message: dict[str, Any] | None = await pubsub.get_message(timeout=remaining)
            if message is not None and message.get("type") == kind:
                return
        raise TimeoutError(f"Redis did not confirm {kind} in time")

    async def ping(self) -> bool:
        """True when Redis answers within the ping timeout; False on any connection trouble."""
        try:
            async with asyncio.timeout(self._ping_timeout):
                return bool(await self._client.ping())
        except (RedisError, OSError, TimeoutError):
            return False

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self._client.aclose()

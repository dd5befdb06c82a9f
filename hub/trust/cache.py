"""One value kept for a while: the public page's figures, so a view runs no query.

Owned by the page object the app builds (never module state). Within ``ttl`` of the
last refresh every caller gets the kept value; after it, the first caller refreshes
while any others arriving meanwhile wait for that one refresh instead of each running
the queries again, so a burst of views after expiry still costs one set of queries.
The clock is the hub's, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


class Kept(Generic[T]):
    def __init__(
        self,
        make: Callable[[], Awaitable[T]],
        ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._make = make
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._value: T | None = None
        self._made_at: datetime | None = None

    def _fresh(self) -> bool:
        if self._made_at is None:
            return False
        age = self._clock() - self._made_at
        return timedelta(0) <= age < self._ttl  # a clock set back counts as stale

    async def get(self) -> T:
        """The kept value, made anew when older than the TTL."""
        if self._fresh() and self._value is not None:
            return self._value
        async with self._lock:
            if self._fresh() and self._value is not None:
                return self._value  # made while this caller waited
            value = await self._make()
            self._value, self._made_at = value, self._clock()
            return value

    def forget(self) -> None:
        """The next :meth:`get` makes the value anew."""
        self._made_at = None

"""Rate limits shared by every hub process: the ``limits`` package's moving window.

One :class:`RateLimiter` holds the configured rules by name (``"citizen"``,
``"webchat_ip"``, ...). Without Redis the counters live in this process; with
Redis every process counts into the same keys, so a flood spread over workers
is still one flood. A Redis outage never stops the hub: a limit that cannot be
checked lets the message through (and says so in the log once per outage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one more hit fits, and when the window has room again (seconds)."""

    allowed: bool
    retry_after: float = 0.0


class RateLimiter:
    """Named limits (``"20/minute"``) checked per key, in memory or in Redis."""

    def __init__(self, storage: Storage, rules: Mapping[str, str]) -> None:
        """``rules`` maps a rule name to a ``limits`` string; a rule not listed never limits."""
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._rules: dict[str, list[RateLimitItem]] = {
            name: parse_many(text) for name, text in rules.items()
        }
        self._degraded = False

    @classmethod
    def open(
        cls, rules: Mapping[str, str], redis_url: str | None = None, *, prefix: str = "omnihub:"
    ) -> RateLimiter:
        """In-process counters without ``redis_url``; shared ones under ``prefix`` with it."""
        if redis_url is None:
            return cls(MemoryStorage(), rules)
        uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
        storage = RedisStorage(
            uri, implementation="redispy", key_prefix=prefix + "ratelimit", wrap_exceptions=True
        )
        return cls(storage, rules)

    def limits(self, rule: str) -> bool:
        """True when ``rule`` is configured (an unconfigured rule allows everything)."""
        return rule in self._rules

    @property
    def storage(self) -> Storage:
        """The shared counters, for throttles that are not a plain rate (console logins)."""
        return self._storage

    def shortest_window(self, rule: str) -> float:
        """The shortest window of ``rule`` in seconds (0 when unconfigured)."""
        return float(min((item.get_expiry() for item in self._rules.get(rule, [])), default=0))

    async def hit(self, rule: str, key: str, *, cost: int = 1) -> Verdict:
        """Count one hit of ``key`` under every rate of ``rule`` ("20/minute;200/day");
        refused once any of their windows is full, with the longest wait."""
        items = self._rules.get(rule)
        if not items:
            return Verdict(True)
        waits: list[float] = []
        try:
            for item in items:
                if not await self._strategy.hit(item, rule, key, cost=cost):
                    stats = await self._strategy.get_window_stats(item, rule, key)
                    waits.append(max(0.0, stats.reset_time - time.time()))
        except Exception:
            if not self._degraded:
                log.warning("rate limits cannot be checked; letting messages through")
                self._degraded = True
            return Verdict(True)
        self._degraded = False
        return Verdict(False, max(waits)) if waits else Verdict(True)

    async def test(self, rule: str, key: str) -> bool:
        """Whether one more hit would fit, without counting it."""
        items = self._rules.get(rule, [])
        try:
            for item in items:
                if not await self._strategy.test(item, rule, key):
                    return False
        except Exception:
            return True
        return True

    async def clear(self, rule: str, key: str) -> None:
        """Forget ``key``'s hits under ``rule`` (a successful login clears its failures)."""
        try:
            for item in self._rules.get(rule, []):
                await self._strategy.clear(item, rule, key)
        except Exception:
            log.warning("rate limit could not be cleared")

    async def close(self) -> None:
        """Release the storage's connections (Redis)."""
        close = getattr(self._storage, "close", None)
        if close is not None:
            await close()

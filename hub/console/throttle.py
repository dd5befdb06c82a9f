"""Growing waits after wrong console passwords, per source address and per username.

A hard lock after N failures lets anyone lock the officers out by typing their
usernames. Instead each failure makes the *next* try wait longer (1, 2, 4 ...
seconds from the last failure, capped), counted three ways:

- per source address (any username): an attacker's IP ends up waiting minutes;
- per username from one address: the officer's own typos, capped low;
- per username from all addresses (a guess spread over many IPs), capped low and
  applied only to addresses that failed for that username themselves, so a right
  password from a clean address always gets in.

The counters live in the rate limiter's storage (``limits``: in memory, or Redis
shared by every hub process). Each key holds the failure count, and one key per
failure number holds when that failure happened, by the console's clock (tests
move it); a failure number is written by the one process whose increment
returned it, so no read-modify-write races. Storage trouble lets logins through:
the password check (argon2) still stands.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from limits.aio.storage import Storage

from hub.config import LoginBackoff, LoginThrottleConfig

log = logging.getLogger(__name__)

KEEP_SECONDS = 7 * 24 * 3600
"""How long the storage keeps a counter at most (the clock decides what is forgotten)."""


@dataclass(frozen=True, slots=True)
class Throttled:
    """This try must wait: no password is checked and nothing is counted."""

    retry_after: float
    scope: str
    """Which count made it wait: ``address``, ``username`` or ``username_everywhere``."""
    first: bool = False
    """True for the first refused try of this wait (the one worth an audit entry)."""

    @property
    def seconds(self) -> int:
        """Whole seconds for ``Retry-After`` (never 0)."""
        return max(1, math.ceil(self.retry_after))


def _delay(backoff: LoginBackoff, failures: int) -> float:
    if failures < backoff.free_failures or failures <= 0:
        return 0.0
    return float(min(backoff.max_delay_seconds, 2.0 ** (failures - backoff.free_failures)))


def _user(username: str) -> str:
    """Usernames are keyed by a digest: any length, any characters, never stored plain."""
    return hashlib.sha256(username.encode("utf-8")).hexdigest()[:24]


class LoginThrottle:
    """Counts wrong passwords and says how long the next try must wait."""

    def __init__(
        self, storage: Storage, config: LoginThrottleConfig, clock: Callable[[], datetime]
    ) -> None:
        self._storage = storage
        self._config = config
        self._clock = clock
        self._degraded = False

    def _keys(self, username: str, address: str) -> list[tuple[str, str, LoginBackoff]]:
        user = _user(username)
        return [
            ("address", f"login:addr:{address}", self._config.per_address),
            ("username", f"login:user:{user}:{address}", self._config.per_username),
            (
                "username_everywhere",
                f"login:user:{user}",
                self._config.per_username_everywhere,
            ),
        ]

    def _now(self) -> float:
        return self._clock().timestamp()

    async def _failures(self, key: str) -> tuple[int, float]:
        """The failures under ``key`` still remembered, and when the last one happened."""
        count = await self._storage.get(key)
        if count <= 0:
            return 0, 0.0
        stamp = await self._storage.get(f"{key}:at:{count}")
        at = stamp / 1000 if stamp > 0 else self._now()  # being written right now
        if self._now() - at > self._config.forget_minutes * 60:
            await self._storage.clear(key)
            return 0, 0.0
        return count, at

    async def check(self, username: str, address: str) -> Throttled | None:
        """Whether a try for ``username`` from ``address`` must wait, and how long."""
        try:
            return await self._check(username, address)
        except Exception:
            self._trouble()
            return None

    async def _check(self, username: str, address: str) -> Throttled | None:
        now = self._now()
        waits: list[tuple[float, str, str, int]] = []
        failed_here = False
        for scope, key, backoff in self._keys(username, address):
            if scope == "username_everywhere" and not failed_here:
                continue  # a clean address is never slowed by failures elsewhere
            count, at = await self._failures(key)
            failed_here = failed_here or count > 0
            wait = at + _delay(backoff, count) - now if count else 0.0
            if wait > 0:
                waits.append((wait, scope, key, count))
        if not waits:
            return None
        wait, scope, key, count = max(waits)
        first = await self._storage.incr(f"{key}:told:{count}", KEEP_SECONDS) == 1
        return Throttled(wait, scope, first)

    async def failed(self, username: str, address: str) -> int:
        """Count a wrong password; returns the failures for this username from here."""
        stamp = round(self._now() * 1000)
        mine = 0
        try:
            for scope, key, _backoff in self._keys(username, address):
                await self._failures(key)  # forgets an old streak first
                count = await self._storage.incr(key, KEEP_SECONDS)
                at = f"{key}:at:{count}"
                await self._storage.clear(at)
                await self._storage.incr(at, KEEP_SECONDS, amount=stamp)
                await self._storage.clear(f"{key}:told:{count}")
                if scope == "username":
                    mine = count
        except Exception:
            self._trouble()
        return mine

    async def succeeded(self, username: str, address: str) -> None:
        """A right password forgets this username's failures from this address (the
        address's own count and the username's elsewhere stay: they are someone else's)."""
        try:
            await self._storage.clear(self._keys(username, address)[1][1])
        except Exception:
            self._trouble()

    def _trouble(self) -> None:
        if not self._degraded:
            log.warning("login throttle storage unavailable; logins are not slowed")
            self._degraded = True

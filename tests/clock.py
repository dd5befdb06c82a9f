"""The hub's "now" in tests: a clock the test holds still and moves by hand, passed
to ``create_app(clock=...)`` or a service instead of patching time."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

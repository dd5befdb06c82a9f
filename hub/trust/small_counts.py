"""The small-count rule of the public page, in one place: nobody may be singled out.

- A count of 1 to 4 is shown as ``< 5``; 0 and 5 or more are shown as they are.
- A share, a median or an average computed from fewer than 5 items is not shown.
- The page shows two periods, one inside the other (this year and the last 30 days).
  When both counts of one figure would be exact and differ by 1 to 4, the difference
  (what happened in the outer period before the inner one) would be a small count
  read by subtraction; then the outer count is shown as a range of 4 (``7–10``).

A :class:`Shown` count keeps only what may be published: the exact value when it may
be shown, else the range it lies in. Charts draw it at the middle of that range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

THRESHOLD = 5
"""The smallest count shown exactly (besides 0), and the fewest items a share needs."""


@dataclass(frozen=True, slots=True)
class Shown:
    """A count as published: ``value`` when exact, else None and the range it lies in."""

    low: int
    high: int

    @property
    def value(self) -> int | None:
        return self.low if self.low == self.high else None

    @property
    def display(self) -> str:
        """``7``, ``< 5`` or ``7–10``: digits and signs only, the same in every language."""
        return self.text()

    def text(self, number: Callable[[int], str] = str) -> str:
        """:attr:`display` with each number written by ``number`` (``1.234`` in Indonesian)."""
        if self.value is not None:
            return number(self.value)
        if self.low == 1 and self.high == THRESHOLD - 1:
            return f"< {number(THRESHOLD)}"
        return f"{number(self.low)}–{number(self.high)}"

    @property
    def drawn(self) -> float:
        """Where a chart may draw it: the value, or the middle of its range."""
        return (self.low + self.high) / 2


def count(n: int) -> Shown:
    """One count by the rule: 1 to 4 becomes ``< 5``."""
    if n < 0:
        raise ValueError("a count is never negative")
    if 0 < n < THRESHOLD:
        return Shown(1, THRESHOLD - 1)
    return Shown(n, n)


def nested(outer: int, inner: int) -> tuple[Shown, Shown]:
    """Counts of one figure over two periods, ``inner`` lying within ``outer``.

    The outer count becomes a range when subtracting the inner one would give a small
    count: a range starting just above the inner count, as wide as the hidden one.
    """
    if inner > outer:
        raise ValueError("the inner period cannot count more than the outer one")
    shown_outer, shown_inner = count(outer), count(inner)
    exact = shown_outer.value is not None and shown_inner.value is not None
    if exact and 0 < outer - inner < THRESHOLD:
        shown_outer = Shown(inner + 1, inner + THRESHOLD - 1)
    return shown_outer, shown_inner


def enough(items: int) -> bool:
    """Whether a share, median or average of ``items`` may be shown."""
    return items >= THRESHOLD


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when ``whole`` is too few to show."""
    return part / whole if enough(whole) else None


def average(total: float, items: int) -> float | None:
    """``total / items``, or None when ``items`` are too few to show."""
    return total / items if enough(items) else None


def median(counts: dict[int, int]) -> float | None:
    """The median of values given as ``{value: how many}``; None from fewer than 5 items."""
    items = sum(counts.values())
    if not enough(items):
        return None
    ordered = sorted(counts.items())

    def at(position: int) -> int:
        seen = 0
        for value, many in ordered:
            seen += many
            if position < seen:
                return value
        raise AssertionError("position beyond the items")

    middle = items // 2
    if items % 2:
        return float(at(middle))
    return (at(middle - 1) + at(middle)) / 2

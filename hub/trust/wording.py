"""The page's words and number formats in one language, read from its templates.

Every word a citizen reads lives in ``templates/trust/<locale>/words.j2`` (a
``words`` dict, like the replies' ``_labels.j2``); this module only reads it and writes
numbers the way the language does (``1.234`` and ``4,2`` in Indonesian, ``1,234`` and
``4.2`` in English). Counts are written through :meth:`Shown.text`, so the small-count
rule decides what a count may show and this module only how its digits look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import jinja2

from hub.trust.small_counts import Shown

LOCALES = ("id", "en")


def load_words(env: jinja2.Environment, locale: str) -> Mapping[str, Any]:
    """The ``words`` dict of ``<locale>/words.j2``."""
    words = getattr(env.get_template(f"{locale}/words.j2").module, "words", None)
    if not isinstance(words, dict):
        raise LookupError(f"templates/trust/{locale}/words.j2 sets no words dict")
    return words


@dataclass(frozen=True, slots=True)
class Wording:
    locale: str
    words: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.words[key]

    def fill(self, key: str, *values: object) -> str:
        """The phrase ``key`` with ``{0}``, ``{1}`` … filled in."""
        return str(self.words[key]).format(*values)

    def number(self, value: int) -> str:
        return f"{value:,d}".replace(",", str(self.words["group_mark"]))

    def count(self, shown: Shown) -> str:
        return shown.text(self.number)

    def decimal(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return str(self.words["hidden"])
        text = f"{value:,.{digits}f}"
        marks = {",": str(self.words["group_mark"]), ".": str(self.words["decimal_mark"])}
        return "".join(marks.get(char, char) for char in text)

    def percent(self, share: float | None) -> str:
        """A share (0 to 1) as a whole percentage: ``86%``; ``—`` when not shown."""
        return str(self.words["hidden"]) if share is None else f"{round(share * 100)}%"

    def working_days(self, days: float | None) -> str:
        if days is None:
            return str(self.words["hidden"])
        if days == 0:
            return str(self.words["same_day"])
        shown = self.number(int(days)) if days == int(days) else self.decimal(days)
        return self.fill("working_days", shown)

    def day(self, value: date) -> str:
        """``15 Nov 2026``."""
        return f"{value.day} {self.words['months'][value.month - 1]} {value.year}"

    def channel(self, channel: str) -> str:
        return str(self.words["channels"].get(channel, channel))

    def weekday(self, weekday: int) -> str:
        return str(self.words["weekdays"][weekday])

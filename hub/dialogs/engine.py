"""The conversation flows: an understood message in, ``Reply``s and new state out.

The engine is pure (no I/O): the gateway loads the conversation's state, calls
:meth:`DialogEngine.handle` and stores what comes back in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.dialogs.keywords import KeywordMatcher, Understanding
from hub.model import Choice, Reply

MENU_INTENTS = ("ask_service_info", "book_queue", "file_complaint", "talk_to_human")
"""What the menu offers, in order; each is an intent name the NLU will also produce."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One citizen message as the dialogs see it: text or a chosen payload."""

    text: str
    choice_payload: str | None
    channel: str
    default_locale: str
    supported_locales: tuple[str, ...]


@dataclass(slots=True)
class Outcome:
    replies: list[Reply]
    state: dict[str, Any]
    locale: str
    understanding: Understanding
    handoff: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class DialogEngine:
    def __init__(self, matcher: KeywordMatcher | None = None) -> None:
        self.matcher = matcher or KeywordMatcher()

    def understand(self, turn: Turn) -> Understanding:
        if turn.choice_payload and turn.choice_payload.startswith("/"):
            return Understanding(turn.choice_payload[1:], 1.0, None)
        return self.matcher.parse(turn.text)

    def handle(self, turn: Turn, state: dict[str, Any], locale: str) -> Outcome:
        understanding = self.understand(turn)
        if understanding.locale in turn.supported_locales:
            locale = understanding.locale or locale
        if locale not in turn.supported_locales:
            locale = turn.default_locale
        new_state = dict(state)
        new_state["turns"] = int(state.get("turns", 0)) + 1
        replies = self._respond(understanding, new_state)
        return Outcome(replies=replies, state=new_state, locale=locale, understanding=understanding)

    def _respond(self, understanding: Understanding, state: dict[str, Any]) -> list[Reply]:
        intent = understanding.intent
        if intent == "greet":
            return [Reply("greet", {"returning": state["turns"] > 1}), _menu()]
        if intent == "help":
            return [_menu()]
        if intent == "thanks":
            return [Reply("thanks")]
        if intent == "goodbye":
            return [Reply("goodbye")]
        if intent in MENU_INTENTS:
            # Until the flows of issues 5 and 6 land, say so plainly.
            return [Reply("not_ready", {"feature": intent}), _menu()]
        state["fallbacks"] = int(state.get("fallbacks", 0)) + 1
        return [Reply("fallback", {"repeated": state["fallbacks"] > 1}), _menu()]


def _menu() -> Reply:
    return Reply(
        "menu",
        choices=tuple(
            Choice(title=f"@menu.{intent}", payload=f"/{intent}") for intent in MENU_INTENTS
        ),
    )

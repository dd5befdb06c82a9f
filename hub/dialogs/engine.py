"""The conversation flows: an understood message in, ``Reply``s and new state out.

The engine is pure (no I/O): the gateway understands the message first (NLU),
loads the conversation's state, calls :meth:`DialogEngine.handle` and stores what
comes back in the same transaction. It chooses by intent; when the NLU is unsure
it asks which of the two likeliest intents was meant instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.model import Choice, Reply
from hub.nlu.base import IntentScore, Parse

MENU_INTENTS = ("ask_service_info", "book_queue", "file_complaint", "talk_to_human")
"""What the menu offers, in order; each is an intent name the NLU also produces."""

FEATURE_OF = {
    "ask_service_info": "ask_service_info",
    "ask_requirements": "ask_service_info",
    "ask_hours": "ask_service_info",
    "ask_location": "ask_service_info",
    "ask_fee": "ask_service_info",
    "book_queue": "book_queue",
    "check_booking": "book_queue",
    "reschedule_booking": "book_queue",
    "cancel_booking": "book_queue",
    "file_complaint": "file_complaint",
    "check_complaint_status": "file_complaint",
    "give_appreciation": "file_complaint",
    "talk_to_human": "talk_to_human",
}
"""Intents whose flows land with the booking and CARE issues, by the feature they belong to."""

UNCLEAR = ("out_of_scope", "inform", "affirm", "deny")
"""Intents never offered in a clarifying question: they are not something to ask for."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One citizen message as the dialogs see it: understood text or a chosen payload."""

    text: str
    choice_payload: str | None
    channel: str
    default_locale: str
    supported_locales: tuple[str, ...]
    parse: Parse | None = None


@dataclass(slots=True)
class Outcome:
    replies: list[Reply]
    state: dict[str, Any]
    locale: str
    understanding: Parse
    handoff: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class DialogEngine:
    def __init__(self, threshold: float = 0.4) -> None:
        self.threshold = threshold

    def understand(self, turn: Turn) -> Parse:
        if turn.choice_payload and turn.choice_payload.startswith("/"):
            chosen = IntentScore(turn.choice_payload[1:], 1.0)
            return Parse(text=turn.text, intent=chosen, ranking=(chosen,), engine="choice")
        if turn.parse is not None:
            return turn.parse
        return Parse(text=turn.text, intent=IntentScore("out_of_scope", 0.0))

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

    def _respond(self, understanding: Parse, state: dict[str, Any]) -> list[Reply]:
        intent = understanding.intent
        if intent.confidence < self.threshold:
            # Offer only plausible readings; a shot in the dark gets the menu instead.
            plausible = self.threshold / 4
            options = [
                s
                for s in understanding.ranking
                if s.name not in UNCLEAR and s.confidence >= plausible
            ][:2]
            if len(options) == 2:
                return [_clarify(options)]
            return self._fallback(state)
        name = intent.name
        if name == "greet":
            return [Reply("greet", {"returning": state["turns"] > 1}), _menu()]
        if name == "help":
            return [_menu()]
        if name == "thanks":
            return [Reply("thanks")]
        if name == "goodbye":
            return [Reply("goodbye")]
        if name in FEATURE_OF:
            # Until the flows of the booking and CARE issues land, say so plainly.
            return [Reply("not_ready", {"feature": FEATURE_OF[name]}), _menu()]
        return self._fallback(state)

    def _fallback(self, state: dict[str, Any]) -> list[Reply]:
        state["fallbacks"] = int(state.get("fallbacks", 0)) + 1
        return [Reply("fallback", {"repeated": state["fallbacks"] > 1}), _menu()]


def _menu() -> Reply:
    return Reply(
        "menu",
        choices=tuple(
            Choice(title=f"@menu.{intent}", payload=f"/{intent}") for intent in MENU_INTENTS
        ),
    )


def _clarify(options: list[IntentScore]) -> Reply:
    return Reply(
        "clarify",
        {"intents": [o.name for o in options]},
        choices=tuple(Choice(title=f"@intent.{o.name}", payload=f"/{o.name}") for o in options),
    )

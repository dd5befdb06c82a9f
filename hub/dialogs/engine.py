"""The conversation flows: an understood message in, ``Reply``s and new state out.

The engine is pure (no I/O): the gateway understands the message first (NLU),
loads the conversation's state, calls :meth:`DialogEngine.handle` and stores what
comes back in the same transaction. It chooses by intent; when the NLU is unsure
it asks which of the two likeliest intents was meant instead of guessing.

Service information is answered by :mod:`hub.dialogs.info` from the catalogue.
Queue booking (:mod:`hub.dialogs.booking`) needs the booking service, which does
I/O: it runs from :meth:`DialogEngine.respond`, the async door the gateway calls.
The CARE flows are not built yet and say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.booking import BookingService
from hub.catalogue import Catalogue, load_catalogue
from hub.dialogs.booking import BOOKING_INTENTS, BookingFlow
from hub.dialogs.context import DialogContext
from hub.dialogs.info import AWAITING, INFO_INTENTS, InfoFlow
from hub.model import Choice, Reply
from hub.nlu.base import ENTITY_TYPES, Entity, IntentScore, Parse

__all__ = ["DialogContext", "DialogEngine", "Outcome", "Turn", "pick_locale", "read_payload"]

MENU_INTENTS = ("ask_service_info", "book_queue", "file_complaint", "talk_to_human")
"""What the menu offers, in order; each is an intent name the NLU also produces."""

FEATURE_OF = {
    "file_complaint": "file_complaint",
    "check_complaint_status": "file_complaint",
    "give_appreciation": "file_complaint",
    "talk_to_human": "talk_to_human",
}
"""Intents whose flows land with the CARE issues, by the feature they belong to."""

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
    def __init__(
        self,
        threshold: float = 0.4,
        catalogue: Catalogue | None = None,
        bookings: BookingService | None = None,
    ) -> None:
        """``catalogue`` defaults to the shipped services.yaml (handy in tests).

        Without ``bookings`` (the pure engine of unit tests) the booking intents are
        answered as not available, since booking needs the database.
        """
        self.threshold = threshold
        self.info = InfoFlow(catalogue if catalogue is not None else load_catalogue())
        self.booking = BookingFlow(bookings, _menu) if bookings is not None else None

    @property
    def catalogue(self) -> Catalogue:
        return self.info.catalogue

    def use_catalogue(self, catalogue: Catalogue) -> None:
        """Answer from ``catalogue`` from the next message on (a reload; no restart)."""
        self.info = InfoFlow(catalogue)

    def understand(self, turn: Turn) -> Parse:
        if turn.choice_payload and turn.choice_payload.startswith("/"):
            return read_payload(turn.choice_payload, turn.text)
        if turn.parse is not None:
            return turn.parse
        return Parse(text=turn.text, intent=IntentScore("out_of_scope", 0.0))

    async def respond(
        self, turn: Turn, state: dict[str, Any], locale: str, context: DialogContext
    ) -> Outcome:
        """What the gateway calls: flows that need I/O (booking) get their turn here.

        A booking intent, or any message while a booking flow is under way, goes to
        the booking flow; a message that is not about it leaves that flow and is
        answered as usual.
        """
        flow = self.booking
        if flow is None:
            return self.handle(turn, state, locale)
        understanding = self.understand(turn)
        intent = understanding.intent
        wanted = intent.name in BOOKING_INTENTS and intent.confidence >= self.threshold
        if not (wanted or flow.active(state)):
            return self.handle(turn, state, locale)
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        new_state.pop(AWAITING, None)
        replies = await flow.respond(understanding, new_state, locale, context)
        if replies is None:
            replies = self._respond(understanding, new_state, locale)
        return Outcome(replies=replies, state=new_state, locale=locale, understanding=understanding)

    def handle(self, turn: Turn, state: dict[str, Any], locale: str) -> Outcome:
        understanding = self.understand(turn)
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        replies = self._respond(understanding, new_state, locale)
        return Outcome(replies=replies, state=new_state, locale=locale, understanding=understanding)

    def _respond(self, understanding: Parse, state: dict[str, Any], locale: str) -> list[Reply]:
        info = self.info  # one catalogue for the whole turn, even if a reload swaps it
        # Before the confidence check: a bare "paspor" answering "which service?"
        # is rarely classified with confidence, yet it is a clear answer.
        resumed = info.resume(understanding, state, locale)
        if resumed is not None:
            return resumed
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
        if name in INFO_INTENTS:
            return info.answer(name, info.service_in(understanding), state, locale)
        if name in BOOKING_INTENTS:
            # Only without a booking service (respond() hands these to the flow).
            return [Reply("not_ready", {"feature": "book_queue"}), _menu()]
        if name in FEATURE_OF:
            # Until the flows of the CARE issues land, say so plainly.
            return [Reply("not_ready", {"feature": FEATURE_OF[name]}), _menu()]
        return self._fallback(state)

    def _fallback(self, state: dict[str, Any]) -> list[Reply]:
        state["fallbacks"] = int(state.get("fallbacks", 0)) + 1
        return [Reply("fallback", {"repeated": state["fallbacks"] > 1}), _menu()]


def _advance(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of the state for this turn (the caller's stays untouched), turn counted."""
    new_state = dict(state)
    new_state["turns"] = int(state.get("turns", 0)) + 1
    return new_state


def pick_locale(understanding: Parse, turn: Turn, locale: str) -> str:
    """The language to answer in: the message's own if supported, else the conversation's."""
    if understanding.locale in turn.supported_locales:
        locale = understanding.locale or locale
    if locale not in turn.supported_locales:
        locale = turn.default_locale
    return locale


def read_payload(payload: str, text: str = "") -> Parse:
    """A chosen payload in Rasa's style, ``/intent`` or ``/intent{"service": "paspor"}``.

    The JSON after the intent name carries entities; invalid JSON, or values that
    are not plain strings or numbers, leave just the intent.
    """
    name, brace, rest = payload[1:].partition("{")
    entities: list[Entity] = []
    if brace:
        try:
            values = json.loads(brace + rest)
        except ValueError:
            values = {}
        if isinstance(values, dict):
            entities = [
                Entity(type=key, value=str(value), text="", start=0, end=0)
                for key, value in values.items()
                if key in ENTITY_TYPES
                and isinstance(value, str | int)
                and not isinstance(value, bool)
            ]
    chosen = IntentScore(name.strip(), 1.0)
    return Parse(
        text=text, intent=chosen, ranking=(chosen,), entities=tuple(entities), engine="choice"
    )


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

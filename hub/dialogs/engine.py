"""The conversation flows: an understood message in, ``Reply``s and new state out.

The engine is pure (no I/O): the gateway understands the message first (NLU),
loads the conversation's state, calls :meth:`DialogEngine.handle` and stores what
comes back in the same transaction. It chooses by intent; when the NLU is unsure
it asks which of the two likeliest intents was meant instead of guessing.

Service information is answered by :mod:`hub.dialogs.info` from the catalogue.
Queue booking (:mod:`hub.dialogs.booking`) and CARE (:mod:`hub.dialogs.care`:
complaints, appreciations, their status and rating, handing a conversation to the
officers) need their domain services, which do I/O: they run from
:meth:`DialogEngine.respond`, the async door the gateway calls. A CARE flow under
way (or a rating awaited) has the first say, then a booking flow, then the rest.

A message not understood twice in a row is handed to the officers (with CARE
present; the pure engine shows the menu again): the count of fallbacks in a row
is kept in the state and cleared by any message that is understood. Only messages
outside any flow count: a miss inside a booking or CARE flow is the flow's business.

A handoff the citizen did not ask for (``failures``), and any handoff outside office
hours, keeps the citizen served: the state gets :data:`SERVED` and, until an officer
claims the conversation, the gateway still brings messages here. Clear requests are
answered as usual; an unclear one gets no answer (it waits for the officer, with no
fallback and no second handoff notice). A citizen who asks for a person (the NLU's
``talk_to_human`` or :mod:`hub.dialogs.person`'s words), or who is angry when the bot
does not understand, is handed over at once (``asked`` / ``angry``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.booking import BookingService
from hub.care.service import CareService
from hub.catalogue import Catalogue, load_catalogue
from hub.dialogs import booking as booking_flow
from hub.dialogs import care as care_flow
from hub.dialogs.anger import is_angry
from hub.dialogs.booking import BOOKING_INTENTS, BookingFlow
from hub.dialogs.care import CARE_INTENTS, CareFlow
from hub.dialogs.context import DialogContext
from hub.dialogs.info import AWAITING, INFO_INTENTS, InfoFlow
from hub.dialogs.person import asks_for_a_person
from hub.model import Choice, Reply
from hub.nlu.base import ENTITY_TYPES, Entity, IntentScore, Parse

__all__ = [
    "SERVED",
    "DialogContext",
    "DialogEngine",
    "Outcome",
    "Turn",
    "pick_locale",
    "read_payload",
]

MENU_INTENTS = ("ask_service_info", "book_queue", "file_complaint", "talk_to_human")
"""What the menu offers, in order; each is an intent name the NLU also produces."""

FEATURE_OF = {
    "file_complaint": "file_complaint",
    "check_complaint_status": "file_complaint",
    "give_appreciation": "file_complaint",
    "talk_to_human": "talk_to_human",
}
"""CARE intents by the menu feature they belong to: named when no CARE service is given."""

PAYLOAD_KEYS = (*ENTITY_TYPES, "rating", "option")
"""What a chosen payload may carry: the entity types, plus values only buttons give
(a ticket's rating, a flow's option such as "skip" or "anonymous")."""

FALLBACKS_BEFORE_HANDOFF = 2
"""Messages not understood in a row before the officers take over (with CARE)."""

FLOW_KEYS = (AWAITING, booking_flow.STATE, care_flow.STATE, care_flow.RATING_STATE, "fallbacks")
"""State dropped when the officers take over: the bot's questions are void then."""

SERVED = "served"
"""State key of a conversation waiting for an officer while the bot still answers clear
requests (a handoff for ``failures``, or outside office hours); cleared when the
conversation goes back to the bot, ignored once an officer claims it."""

NOT_UNDERSTOOD = ("fallback", "clarify")
"""First replies that mean the bot did not understand the message."""

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
    attachments: tuple[dict[str, Any], ...] = ()
    """Files the citizen sent with this message (content_type, url, filename, caption)."""


@dataclass(slots=True)
class Outcome:
    replies: list[Reply]
    state: dict[str, Any]
    locale: str
    understanding: Parse
    handoff: str | None = None
    """Why the conversation goes to the officers (asked, angry, repeated, failures);
    None keeps it with the bot. The gateway moves it to ``handoff``."""
    extra: dict[str, Any] = field(default_factory=dict)


class DialogEngine:
    def __init__(
        self,
        threshold: float = 0.4,
        catalogue: Catalogue | None = None,
        bookings: BookingService | None = None,
        care: CareService | None = None,
    ) -> None:
        """``catalogue`` defaults to the shipped services.yaml (handy in tests).

        Without ``bookings`` or ``care`` (the pure engine of unit tests) those
        intents are answered as not available, since they need the database.
        """
        self.threshold = threshold
        self.info = InfoFlow(catalogue if catalogue is not None else load_catalogue())
        self.booking = BookingFlow(bookings, _menu) if bookings is not None else None
        self.care = CareFlow(care, _menu, threshold) if care is not None else None

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
        """What the gateway calls: flows that need I/O (CARE, booking) get their turn here.

        A CARE intent, a CARE flow under way or an awaited rating goes to the CARE
        flow; then a booking intent, a booking flow under way or a booking code
        alone goes to the booking flow. A message a flow does not take (a question
        mid-flow) leaves that flow and is answered as usual.
        """
        care, booking = self.care, self.booking
        if care is None and booking is None:
            return self.handle(turn, state, locale)
        understanding = self.understand(turn)
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        waiting = bool(state.get(SERVED))
        in_flow = (care is not None and care.active(state)) or (
            booking is not None and booking.active(state)
        )
        replies: list[Reply] | None = None
        # A booking's applicant ("orang lain", "nama saya …") is the booking's, not a request.
        held = booking is not None and booking.holds(understanding, new_state, context)
        person = None if held else self._person_wanted(turn, understanding, new_state)
        if care is not None and person is not None:
            replies = [care.handoff(person, context)]
        elif care is not None and not held and care.takes(understanding, new_state):
            replies = await care.respond(
                understanding, new_state, locale, context, turn.attachments
            )
            if replies is not None:
                new_state.pop(AWAITING, None)
                if care.active(new_state):  # a complaint begun mid-booking replaces it
                    new_state.pop(booking_flow.STATE, None)
        if replies is None and booking is not None:
            intent = understanding.intent
            wanted = intent.name in BOOKING_INTENTS and intent.confidence >= self.threshold
            if (
                wanted
                or booking.active(new_state)
                or booking.code_alone(understanding)
                or booking.forget_asked(understanding)
            ):
                new_state.pop(AWAITING, None)
                replies = await booking.respond(understanding, new_state, locale, context)
        if replies is None:
            replies = self._respond(understanding, new_state, locale)
        missed = bool(replies) and replies[0].template in NOT_UNDERSTOOD
        if missed and (in_flow or waiting):  # not counted toward a handoff
            _restore(new_state, state, "fallbacks")
        if missed and care is not None and turn.text and is_angry(turn.text):
            replies = [care.handoff("angry", context)]  # not understood, and angry: a person
        handoff = _handoff_reason(replies)
        last_straw = _failed(replies, new_state)
        if handoff is None and care is not None and last_straw:
            replies, handoff = [care.handoff("failures", context)], "failures"
        if waiting and (handoff == "failures" or (missed and handoff is None)):
            # Already waiting for an officer: an unclear message waits with it.
            replies, handoff = [], None
        if handoff is not None:
            for key in FLOW_KEYS:
                new_state.pop(key, None)
            new_state.pop(SERVED, None)
            if _keeps_serving(handoff, replies):
                new_state[SERVED] = True
        return Outcome(
            replies=replies,
            state=new_state,
            locale=locale,
            understanding=understanding,
            handoff=handoff,
        )

    def _person_wanted(self, turn: Turn, understanding: Parse, state: dict[str, Any]) -> str | None:
        """``asked`` (or ``angry``) when the citizen asks for a person outside a CARE flow
        (the flow has its own rule: a story may mention an officer)."""
        if self.care is None or self.care.active(state) or turn.choice_payload:
            return None
        intent = understanding.intent
        sure = intent.confidence >= self.threshold
        if intent.name == "talk_to_human" and sure:
            asked = True
        elif sure and intent.name in CARE_INTENTS:
            asked = False  # "mau komplain atasannya": a complaint about someone, not a request
        else:
            asked = asks_for_a_person(turn.text)
        if not asked:
            return None
        return "angry" if is_angry(turn.text) else "asked"

    def handle(self, turn: Turn, state: dict[str, Any], locale: str) -> Outcome:
        """The pure engine: information and small talk, without booking or CARE."""
        understanding = self.understand(turn)
        locale = pick_locale(understanding, turn, locale)
        new_state = _advance(state)
        replies = self._respond(understanding, new_state, locale)
        _failed(replies, new_state)
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
        if name in CARE_INTENTS:
            # Only without a CARE service (respond() hands these to the flow).
            return [Reply("not_ready", {"feature": FEATURE_OF[name]}), _menu()]
        return self._fallback(state)

    def _fallback(self, state: dict[str, Any]) -> list[Reply]:
        state["fallbacks"] = int(state.get("fallbacks", 0)) + 1
        return [Reply("fallback", {"repeated": state["fallbacks"] > 1}), _menu()]


def _handoff_reason(replies: list[Reply]) -> str | None:
    """The CARE flow decides a handoff with the reply that tells the citizen about it."""
    for reply in replies:
        if reply.template == "handoff":
            return str(reply.context.get("reason") or "asked")
    return None


def _keeps_serving(handoff: str, replies: list[Reply]) -> bool:
    """A handoff the citizen did not ask for, or one outside office hours (no officer
    answers before morning), leaves the bot answering clear requests meanwhile."""
    if handoff == "failures":
        return True
    notice = next((r for r in replies if r.template == "handoff"), None)
    return notice is not None and notice.context.get("open") is False


def _restore(new_state: dict[str, Any], state: dict[str, Any], key: str) -> None:
    """Undo this turn's change of ``key``."""
    if key in state:
        new_state[key] = state[key]
    else:
        new_state.pop(key, None)


def _failed(replies: list[Reply], state: dict[str, Any]) -> bool:
    """Whether this turn is the last fallback allowed in a row; an understood turn
    (anything but a fallback or a clarifying question) clears the count."""
    first = replies[0].template if replies else ""
    if first == "fallback":
        return int(state.get("fallbacks", 0)) >= FALLBACKS_BEFORE_HANDOFF
    if first != "clarify":
        state.pop("fallbacks", None)
    return False


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

    The JSON after the intent name carries entities (and the button-only values of
    :data:`PAYLOAD_KEYS`); invalid JSON, or values that are not plain strings or
    numbers, leave just the intent.
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
                if key in PAYLOAD_KEYS
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

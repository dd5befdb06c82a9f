"""What understanding a message produces, whichever engine does it.

Intent names are an interface other tools read (the issue fixes them); entity
types likewise. Engines: the built-in one (``hub.nlu.builtin``) and a Rasa
server (``hub.nlu.rasa``), both behind :class:`NluEngine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "inform",
    "help",
    "ask_service_info",
    "ask_requirements",
    "ask_hours",
    "ask_location",
    "ask_fee",
    "book_queue",
    "check_booking",
    "reschedule_booking",
    "cancel_booking",
    "file_complaint",
    "check_complaint_status",
    "give_appreciation",
    "talk_to_human",
    "subscribe",
    "unsubscribe",
    "list_subscriptions",
    "out_of_scope",
)

ENTITY_TYPES = ("service", "date", "time", "ticket_id", "booking_code", "phone", "nik")


@dataclass(frozen=True, slots=True)
class Entity:
    """One detail found in a message.

    ``value`` is normalised: a catalogue id for ``service``, an ISO date for
    ``date`` (WITA), ``HH:MM`` or a part of day (``pagi``/``siang``/``sore``/``malam``)
    for ``time``, the canonical form for ids and codes, E.164 for ``phone``.
    ``text`` is the span as written, ``start``/``end`` its offsets in the message.
    """

    type: str
    value: str
    text: str
    start: int
    end: int
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Parse:
    """The understanding of one message."""

    text: str
    intent: IntentScore
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    locale: str | None = None
    """The language the message is clearly written in (a sentence, not one borrowed
    word or a name: ``hub.nlu.language.clear_language``); None keeps the conversation's."""
    engine: str = "builtin"
    extra: dict[str, str] = field(default_factory=dict)

    def first(self, entity_type: str) -> Entity | None:
        return next((e for e in self.entities if e.type == entity_type), None)


class NluEngine(Protocol):
    name: str

    async def parse(self, text: str, *, today: date) -> Parse:
        """Understand ``text``; ``today`` is the WITA date relative dates resolve against."""

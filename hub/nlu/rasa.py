"""A Rasa 3 server as the hub's NLU engine, with the built-in engine behind it.

Rasa answers ``POST /model/parse`` with its NLU result::

    {"text": "...",
     "intent": {"name": "book_queue", "confidence": 0.97},
     "intent_ranking": [{"name": "book_queue", "confidence": 0.97}, ...],
     "entities": [{"entity": "service", "value": "paspor", "start": 9, "end": 15,
                   "confidence_entity": 0.99, "extractor": "DIETClassifier",
                   "processors": ["EntitySynonymMapper"]}, ...],
     "text_tokens": [[0, 4], ...]}

What is taken from whom, and why:

* the **intent** and its ranking come from Rasa (that is what it is for). A name
  the hub does not know, and Rasa's ``nlu_fallback`` (FallbackClassifier below its
  threshold), become ``out_of_scope`` with Rasa's confidence;
* **service** entities come from Rasa, value kept as given: a catalogue id when the
  training data's explicit values or synonyms were applied (EntitySynonymMapper),
  otherwise the span as DIET tagged it, which the dialogs must check against the
  catalogue like any other value;
* **date, time, ticket_id, booking_code, phone, nik** come from the fallback
  engine's own parse of the same text. Rasa returns the span only ("senin dpn"),
  while :class:`~hub.nlu.results.Entity` promises a resolved value (an ISO date in
  WITA, E.164 phone, canonical codes); the built-in extractors already do that
  resolution, so Rasa's spans for these types are dropped rather than resolved twice.
  ``locale`` comes from the fallback too (Rasa does not detect it).

The fallback is parsed first, always: its entities are needed either way, and when
Rasa fails (timeout, connection error, non-200, malformed JSON) its parse is the
answer, with no second pass. Every such failure logs a warning without the message
text and calls ``on_fallback(reason)`` so the app can count it on /metrics.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import aiohttp

from hub.nlu.results import ENTITY_TYPES, INTENTS, Entity, IntentScore, NluEngine, Parse

log = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"

# Entity types Rasa is trusted with; the others are taken, resolved, from the fallback.
RASA_ENTITY_TYPES = frozenset({"service"})
RESOLVED_ENTITY_TYPES = frozenset(ENTITY_TYPES) - RASA_ENTITY_TYPES

_KNOWN_INTENTS = frozenset(INTENTS)


class MalformedAnswer(ValueError):
    """Rasa answered 200 with a body that is not its parse result."""


def map_intent(name: str) -> str:
    """Our intent name for Rasa's: unknown names and ``nlu_fallback`` are out of scope."""
    return name if name in _KNOWN_INTENTS else OUT_OF_SCOPE


def _confidence(value: Any, what: str) -> float:
    # bool is an int; a JSON true is no confidence.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedAnswer(f"{what} is not a number")
    return float(value)


def _intent(raw: Any, what: str) -> IntentScore:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise MalformedAnswer(f"{what} has no name")
    return IntentScore(map_intent(raw["name"]), _confidence(raw.get("confidence"), what))


def _ranking(raw: Any) -> tuple[IntentScore, ...]:
    """Rasa's ranking in our names; two names mapped to out_of_scope keep the best score."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MalformedAnswer("intent_ranking is not a list")
    best: dict[str, float] = {}
    for item in raw:
        score = _intent(item, "intent_ranking item")
        best[score.name] = max(score.confidence, best.get(score.name, 0.0))
    return tuple(
        IntentScore(name, conf) for name, conf in sorted(best.items(), key=lambda kv: -kv[1])
    )


def _entity(raw: Any, text: str) -> Entity | None:
    """One of Rasa's entities, or None for a type this engine takes from elsewhere."""
    if not isinstance(raw, Mapping):
        raise MalformedAnswer("entity is not an object")
    kind, start, end = raw.get("entity"), raw.get("start"), raw.get("end")
    if not isinstance(kind, str) or not isinstance(start, int) or not isinstance(end, int):
        raise MalformedAnswer("entity lacks entity/start/end")
    if kind not in RASA_ENTITY_TYPES:
        return None
    value = raw.get("value")
    if value is None:
        value = text[start:end]
    # Regex and lookup extractors give no confidence: they matched outright.
    conf = raw.get("confidence_entity", raw.get("confidence"))
    return Entity(
        type=kind,
        value=str(value),
        text=text[start:end],
        start=start,
        end=end,
        confidence=1.0 if conf is None else _confidence(conf, "entity confidence"),
    )


def read_answer(body: Any, text: str, fallback: Parse) -> Parse:
    """Rasa's parse result merged with the fallback's resolved entities (see module doc)."""
    if not isinstance(body, Mapping):
        raise MalformedAnswer("answer is not an object")
    intent = _intent(body.get("intent"), "intent")
    ranking = _ranking(body.get("intent_ranking"))
    entities_raw = body.get("entities", [])
    if not isinstance(entities_raw, list):
        raise MalformedAnswer("entities is not a list")
    ours = [e for e in (_entity(raw, text) for raw in entities_raw) if e is not None]
    resolved = [e for e in fallback.entities if e.type in RESOLVED_ENTITY_TYPES]
    extra = dict(fallback.extra)
    raw_name = body["intent"]["name"]
    if raw_name != intent.name:
        extra["rasa_intent"] = raw_name
    return Parse(
        text=text,
        intent=intent,
        ranking=ranking,
        entities=tuple(sorted([*ours, *resolved], key=lambda e: (e.start, e.end))),
        locale=fallback.locale,
        engine="rasa",
        extra=extra,
    )


class RasaEngine:
    """Asks a Rasa server; the built-in engine answers whenever Rasa cannot."""

    name = "rasa"

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        timeout: float,
        fallback: NluEngine,
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        self._endpoint = url.rstrip("/") + "/model/parse"
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._fallback = fallback
        self._on_fallback = on_fallback

    @property
    def fallback(self) -> NluEngine:
        """The engine that answers when Rasa cannot and resolves the entities."""
        return self._fallback

    async def parse(self, text: str, *, today: date) -> Parse:
        own = await self._fallback.parse(text, today=today)
        try:
            body = await self._ask(text)
            return read_answer(body, text, own)
        except TimeoutError:  # asyncio's and aiohttp's timeouts alike (Python 3.11+)
            reason = "timeout"
        except aiohttp.ClientResponseError as exc:
            reason = f"http_{exc.status}"
        except aiohttp.ClientError:
            reason = "connection"
        except ValueError:  # bad JSON, bad UTF-8, MalformedAnswer
            reason = "malformed"
        # The message text stays out of the log: it may hold an NIK, a name, a complaint.
        log.warning(
            "rasa nlu unavailable (%s); the built-in engine answered",
            reason,
            extra={"nlu_fallback_reason": reason, "rasa_url": self._endpoint},
        )
        if self._on_fallback is not None:
            self._on_fallback(reason)
        return replace(own, extra={**own.extra, "rasa_fallback": reason})

    async def _ask(self, text: str) -> Any:
        async with self._session.post(
            self._endpoint, json={"text": text}, timeout=self._timeout
        ) as resp:
            if resp.status != 200:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status, message=resp.reason or ""
                )
            # Rasa answers application/json; read the text so a wrong content type
            # still parses and a broken body is "malformed", not a client error.
            return json.loads(await resp.text())


__all__ = ["MalformedAnswer", "RasaEngine", "map_intent", "read_answer"]

"""A fake Rasa 3 server: ``POST /model/parse`` with Rasa's documented answer.

The hub's Rasa client is tested against this, not a mock, so the HTTP side (JSON
body, status codes, timeouts, a closed port) is real. The answer has the shape
Rasa 3.6 gives with ``--enable-api``::

    {"text": ..., "intent": {"name", "confidence"}, "entities": [{"entity", "start",
     "end", "confidence_entity", "value", "extractor", "processors"?}],
     "text_tokens": [[start, end], ...], "intent_ranking": [{"name", "confidence"}, ...]}

Configure what it says with the attributes: ``intent``/``confidence``, ``ranking``,
``entities`` (spans found in the request's text at answer time), ``delay``,
``status`` (an error status answers Rasa's error body), ``raw_body`` (anything,
e.g. broken JSON). Every request is kept in ``requests``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes import LocalServer


@dataclass(frozen=True)
class FakeEntity:
    """An entity Rasa will report where ``span`` occurs in the text it is asked about.

    ``value`` other than the span is what EntitySynonymMapper does (and then it is
    listed in ``processors``); ``extractor`` is DIET unless said otherwise (a
    RegexEntityExtractor entity has no confidence).
    """

    entity: str
    span: str
    value: str | None = None
    confidence: float | None = 0.998
    extractor: str = "DIETClassifier"


@dataclass
class FakeRasa(LocalServer):
    intent: str = "greet"
    confidence: float = 0.97
    ranking: list[tuple[str, float]] | None = None
    """None: the intent first, then two made-up runners-up."""
    entities: list[FakeEntity] = field(default_factory=list)
    delay: float = 0.0
    status: int = 200
    raw_body: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: TestServer | None = None

    async def start(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/model/parse", self._parse)
        await self._serve(app)
        return self

    @property
    def url(self) -> str:
        """The Rasa server URL to give the client (no trailing slash)."""
        return self._url()

    async def _parse(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            # Rasa's error body (rasa.server.ErrorResponse).
            return web.json_response(
                {
                    "version": "3.6.21",
                    "status": "failure",
                    "message": "An unexpected error occurred.",
                    "reason": "ParsingError",
                    "details": {},
                    "help": None,
                    "code": self.status,
                },
                status=self.status,
            )
        if self.raw_body is not None:
            return web.Response(text=self.raw_body, content_type="application/json")
        return web.json_response(self.answer(str(body.get("text", ""))))

    def answer(self, text: str) -> dict[str, Any]:
        """What Rasa would answer for ``text`` under the current settings."""
        ranking = self.ranking or [
            (self.intent, self.confidence),
            ("out_of_scope", round((1 - self.confidence) * 0.7, 6)),
            ("help", round((1 - self.confidence) * 0.3, 6)),
        ]
        return {
            "text": text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "entities": [e for e in (_entity(f, text) for f in self.entities) if e is not None],
            "text_tokens": [[m.start(), m.end()] for m in re.finditer(r"\S+", text)],
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }


def _entity(fake: FakeEntity, text: str) -> dict[str, Any] | None:
    start = text.lower().find(fake.span.lower())
    if start < 0:
        return None
    end = start + len(fake.span)
    entity: dict[str, Any] = {"entity": fake.entity, "start": start, "end": end}
    if fake.confidence is not None:
        entity["confidence_entity"] = fake.confidence
    entity["value"] = text[start:end] if fake.value is None else fake.value
    entity["extractor"] = fake.extractor
    if fake.value is not None and fake.value != text[start:end]:
        entity["processors"] = ["EntitySynonymMapper"]
    return entity

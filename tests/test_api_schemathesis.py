"""Schemathesis against the running API: generated requests, every answer checked.

The app is served on a local port from a thread with its own event loop, because
Schemathesis sends its requests synchronously. Examples are few and derandomised,
so the run is quick and the same every time; ``test_api.py`` covers the states
(bookings, check-in, cancel) that random codes would not reach. A few CARE tickets
are filed first, and valid requests for one ticket use their ids, so the ticket
answers (200 with history, 409 with the allowed moves) are checked too, not only 404.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection
from schemathesis.core.result import Ok

from hub.api.openapi import document
from hub.api.scopes import Scope
from hub.app import HUB, create_app
from hub.catalogue import load_catalogue
from hub.config import Settings
from tests.test_api_tickets import seed_tickets

EXAMPLES = 25


@dataclass
class LiveApi:
    settings: Settings
    base_url: str = ""
    token: str = ""
    ticket_ids: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None

    def serve(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:
            self.error = error
            self.ready.set()

    async def _serve(self) -> None:
        app = create_app(self.settings)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            # Port 0: the kernel picks a free port and it stays ours (no probe-then-bind race
            # with other xdist workers).
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            port = runner.addresses[0][1]
            # Every scope: the generated requests are to reach every operation's answers.
            self.token = (await app[HUB].api_tokens.create("schemathesis", frozenset(Scope))).token
            self.ticket_ids = await seed_tickets(app[HUB])
            self.base_url = f"http://127.0.0.1:{port}"
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self.ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)


@pytest.fixture
def live_api(make_settings: Callable[..., Settings]) -> Iterator[LiveApi]:
    live = LiveApi(make_settings())
    thread = threading.Thread(target=live.serve, name="live-api")
    thread.start()
    try:
        assert live.ready.wait(120), "the app did not start"
        if live.error is not None:
            raise live.error
        yield live
    finally:
        live.stop()
        thread.join(60)
    assert live.error is None, live.error


SCHEMA = schemathesis.openapi.from_dict(document(load_catalogue()))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_documented_answers(live_api: LiveApi, mode: GenerationMode) -> None:
    """Valid input never fails and invalid input is refused, always as documented.

    For invalid input the negative-data check is left out: it counts an unknown
    extra query parameter as invalid, which the API ignores on purpose (lenient
    clients); everything else (documented status, schema, no 5xx) is still checked.
    """
    headers = {"Authorization": f"Bearer {live_api.token}"}
    excluded = [negative_data_rejection] if mode is GenerationMode.NEGATIVE else []
    labels = []
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        labels.append(operation.label)
        if mode is GenerationMode.NEGATIVE and operation.path == "/api/v1/openapi.json":
            continue  # no parameters and no token: nothing can be invalid

        @given(
            case=operation.as_strategy(generation_mode=mode),
            ticket_id=st.sampled_from(live_api.ticket_ids),
        )
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case[Any], ticket_id: str) -> None:
            if mode is GenerationMode.POSITIVE and case.operation.path.startswith(
                "/api/v1/tickets/{id}"
            ):
                case.path_parameters = {"id": ticket_id}
            case.call_and_validate(
                base_url=live_api.base_url, headers=headers, excluded_checks=excluded
            )

        check()
    assert len(labels) == 16

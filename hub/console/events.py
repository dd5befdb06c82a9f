"""``GET /console/api/events``: the console's live news as server-sent events.

Each open console page holds one stream fed by the coordinator's ``console`` topic,
so with Redis an event caused in any hub process reaches every officer's page. News
is a nudge: the page refetches what it shows, so a dropped event costs nothing but
a moment. News carries ids and codes only (which conversation, which ticket, what
kind of change), never a citizen's text or name: what an officer may see of it is
decided when the page refetches it through the guarded JSON, so one stream serves
every officer without per-viewer filtering. ``_event`` enforces that whatever a
publisher sends. Streams are tracked so that shutdown ends them at once; otherwise the
server would wait for every open page until its grace period ran out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field

from aiohttp import web

from hub.console.console_deps import console_context
from hub.console.officer_login import AUTH
from hub.console.session import API_PREFIX, COOKIE, current_officer, json_error, local
from hub.coordination.live import CONSOLE_TOPIC

log = logging.getLogger(__name__)

EVENTS_PATH = API_PREFIX + "events"
HEARTBEAT_SECONDS = 15.0
"""A comment line this often keeps proxies from closing an idle stream; the session is
checked again each time."""
TICK_SECONDS = 1.0
"""How often a quiet stream checks whether its browser went away."""
QUEUE_SIZE = 256
RETRY_MILLISECONDS = 3000
NEWS_FIELDS = frozenset(
    {"type", "conversation_id", "message_id", "ticket_id", "status", "reason", "change"}
)
"""What news may say; any other field is dropped before it reaches a page."""
_CODE = re.compile(r"[A-Za-z0-9_:.-]{1,40}")
"""A code or an id (``handoff``, ``T-2026-000123``); text has spaces and is refused."""


@dataclass(eq=False)
class _Stream:
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    stopping: bool = False

    def stop(self) -> None:
        self.stopping = True
        with suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


class EventStreams:
    """The open streams of one app, ended together at shutdown."""

    def __init__(self, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.closing = False
        self._open: set[_Stream] = set()

    def __len__(self) -> int:
        return len(self._open)

    def add(self, stream: _Stream) -> None:
        self._open.add(stream)

    def discard(self, stream: _Stream) -> None:
        self._open.discard(stream)

    async def close_all(self, _app: web.Application) -> None:
        """``on_shutdown``: every stream ends; new ones are refused."""
        self.closing = True
        for stream in list(self._open):
            stream.stop()


EVENTS: web.AppKey[EventStreams] = web.AppKey("console_event_streams", EventStreams)


def _news_value(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def _event(raw: str) -> str | None:
    """One line of JSON for a ``data:`` field, or None for anything that is not news.

    Only ``NEWS_FIELDS`` holding ids or codes pass: a citizen's text or name in an
    event would reach every open console, whoever may see it.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None
    news = {k: v for k, v in data.items() if k in NEWS_FIELDS and _news_value(v)}
    if "type" not in news:
        return None
    return json.dumps(news)


async def _pump(news: AsyncIterator[str], stream: _Stream) -> None:
    try:
        async for raw in news:
            event = _event(raw)
            if event is None:
                continue
            try:
                stream.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("console event dropped: the page stopped reading")
    except Exception:
        log.warning("console news subscription ended with an error")
    finally:
        # No more news (Redis gone): end the stream so the browser reconnects.
        stream.stop()


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _session_ended(request: web.Request) -> bool:
    """True once the officer logged out or the session expired: a stream opened with a
    session must not outlive it."""
    try:
        return await request.app[AUTH].session(request.cookies.get(COOKIE, "")) is None
    except Exception:
        log.warning("console session not checked; the stream goes on")
        return False


async def _forward(
    request: web.Request, response: web.StreamResponse, stream: _Stream, heartbeat: float
) -> None:
    loop = asyncio.get_running_loop()
    last_write = loop.time()
    wait = min(TICK_SECONDS, heartbeat)
    while not stream.stopping:
        try:
            async with asyncio.timeout(wait):
                item = await stream.queue.get()
        except TimeoutError:
            if _gone(request):
                return
            if loop.time() - last_write >= heartbeat:
                if await _session_ended(request):
                    return
                await response.write(b": ping\n\n")
                last_write = loop.time()
            continue
        if item is None:
            return
        await response.write(f"data: {item}\n\n".encode())
        last_write = loop.time()


async def events(request: web.Request) -> web.StreamResponse:
    """The stream: ``data: <json>`` per event, a comment as heartbeat. Any officer: the
    news holds ids and codes only."""
    current_officer(request)
    streams = request.app[EVENTS]
    if streams.closing:
        return json_error(503, "unavailable", "the server is shutting down")
    ctx = console_context(request)
    stream = _Stream()
    async with AsyncExitStack() as stack:
        try:
            news = await stack.enter_async_context(ctx.coordinator.subscribe(CONSOLE_TOPIC))
        except Exception:
            log.warning("console news unavailable")
            return json_error(503, "unavailable", "live news unavailable")
        # Subscribed before the headers go out: whatever happens after the page sees
        # the stream open reaches it.
        streams.add(stream)
        pump = asyncio.create_task(_pump(news, stream))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
        )
        try:
            await response.prepare(request)
            await response.write(f"retry: {RETRY_MILLISECONDS}\n: ready\n\n".encode())
            await _forward(request, response, stream, streams.heartbeat_seconds)
        except ConnectionResetError:
            pass  # the browser went away
        finally:
            streams.discard(stream)
            pump.cancel()
            await asyncio.wait([pump])
    return response


def add_routes(app: web.Application) -> None:
    app[EVENTS] = EventStreams()
    app.on_shutdown.append(app[EVENTS].close_all)
    app.router.add_get(local(EVENTS_PATH), events)

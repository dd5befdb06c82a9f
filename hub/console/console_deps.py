"""What the console needs from the hub, handed over once by ``hub.app``.

The console gets its database, settings, clock and the coordinator (pub/sub for live
updates across processes) here, never the ``Hub`` itself, so it cannot reach the
channels or the dialogs behind the pipeline's back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web

from hub.announcements import Announcements
from hub.care.service import CareService
from hub.catalogue import Catalogue
from hub.config import Settings
from hub.console.announcement_view import AnnouncementTexts
from hub.console.passwords import Passwords
from hub.coordination import Coordinator
from hub.coordination.ratelimit import RateLimiter
from hub.model import utcnow
from hub.resources import templates_dir
from hub.store import Database


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    db: Database
    settings: Settings
    coordinator: Coordinator
    """Pub/sub for live updates (in-process, or Redis with several hub processes)."""
    clock: Callable[[], datetime] = utcnow
    """Aware UTC "now": session expiry, login waits, audit times. Tests pass their own."""
    templates: Path = field(default_factory=templates_dir)
    """The hub's templates root; console pages are in its ``console/`` folder."""
    passwords: Passwords = field(default_factory=Passwords)
    care: CareService | None = None
    """The CARE domain: tickets, their moves and deadlines."""
    officer_reply: Callable[[int, int, str], Awaitable[bool]] | None = None
    """``(conversation_id, officer_id, text)``: queue an officer's answer in the outbox,
    on the citizen's own channel (the outbound service's door; the console knows no channel)."""
    catalogue: Callable[[], Catalogue] | None = None
    """The catalogue in use (agencies and service names), read at each request."""
    limiter: RateLimiter | None = None
    """The hub's rate limiter; its storage keeps the login throttle (Redis: shared by
    every process). None: an in-process one."""
    announcements: Announcements | None = None
    """Drafting, approving, pausing and cancelling announcements; their progress."""
    announcement_texts: AnnouncementTexts | None = None
    """An announcement as each enabled channel would send it (the renderer's door; the
    console knows no channel)."""


CONTEXT: web.AppKey[ConsoleContext] = web.AppKey("console_context", ConsoleContext)


def console_context(request: web.Request) -> ConsoleContext:
    """The console's context from any request under ``/console``."""
    return request.app[CONTEXT]

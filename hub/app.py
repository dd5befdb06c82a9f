"""Assembling one hub process: ``Hub`` holds the parts, ``create_app`` serves them.

Nothing here is global: every test and every ``omnihub`` command builds its own
``Hub`` from a ``Settings``. Constructors only read local files (services.yaml);
``start`` connects and migrates, ``shutdown`` finishes in-flight work, ``close``
releases connections, and ``reload_catalogue`` takes an edited services.yaml.
The REST API (``hub.api``) is mounted here too, on the Hub's ``BookingService``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import ClientSession, ClientTimeout, web

from hub import api
from hub.announcements import Announcements, Subscriptions
from hub.booking import BookingCalendar, BookingService
from hub.care.service import CareService
from hub.care.sla import WorkingDays
from hub.catalogue import Catalogue, CurrentCatalogue
from hub.channels.base import Channel
from hub.channels.email import MailFiles
from hub.channels.registry import build_channels
from hub.channels.sms_text import segments
from hub.config import Settings
from hub.console import CONSOLE_PREFIX, ConsoleContext, console_app
from hub.console.announcement_view import ChannelText, PreviewTexts
from hub.coordination import Coordinator, RedisCoordinator, open_coordinator
from hub.coordination.live import announce
from hub.coordination.ratelimit import RateLimiter
from hub.dialogs.booking_choices import booking_actions
from hub.dialogs.engine import DialogEngine
from hub.metrics import Metrics
from hub.model import Reply, utcnow
from hub.pipeline.booking_reminders import ReminderSender
from hub.pipeline.broadcast import TEMPLATE as ANNOUNCEMENT_TEMPLATE
from hub.pipeline.broadcast import Broadcaster, template_key
from hub.pipeline.care_notices import CareNotices
from hub.pipeline.dispatcher import Dispatcher
from hub.pipeline.inbound import Inbound, NotAccepting
from hub.pipeline.outbound import SMS_CHANNEL, Outbound
from hub.pipeline.render import Renderer
from hub.pipeline.scheduler import Scheduler
from hub.pipeline.understanding import Understanding, catalogue_for
from hub.resources import templates_dir
from hub.security.keys import load_keys
from hub.security.vault import NikVault
from hub.store import Database, migrate
from hub.store import outbox as outbox_store
from hub.store.announcements import AnnouncementRecord
from hub.store.retention import Retention
from hub.trust import TrustPage
from hub.web.media import add_media_routes
from hub.web.metrics_access import MetricsAccess
from hub.web.unsubscribe import add_unsubscribe_routes

log = logging.getLogger(__name__)


class SchemaOutOfDate(Exception):
    """The database needs ``omnihub db upgrade`` before this version can run."""


async def prepare_database(db: Database) -> None:
    """Create the schema in an empty database; refuse to run on an old one."""
    if await migrate.is_empty(db):
        await migrate.upgrade(db)
        log.info("database schema created")
        return
    current, head = await migrate.current_revision(db), migrate.head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at {current}, this version needs {head}: run `omnihub db upgrade`"
        )


def retention_for(
    db: Database, settings: Settings, clock: Callable[[], datetime] = utcnow
) -> Retention:
    """The retention purge, knowing where the hub keeps mail attachments on disk."""
    files = MailFiles(Path(settings.channels.email.attachments_dir), settings.server.public_url)
    return Retention(db, files.local_path, clock=clock)


class Hub:
    """Every part one hub process runs, opened and closed together."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_channels: Sequence[Channel] = (),
        include_configured_channels: bool = True,
        templates: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``clock`` is the hub's "now" for booking rules and the citizen's "today";
        tests pass a controllable one instead of patching time.

        The parts are built in the order a message needs them, each from the ones
        before it: nothing is completed afterwards."""
        self.settings = settings
        self.templates = templates or templates_dir()
        zone = ZoneInfo(settings.server.timezone)
        self.metrics = Metrics()
        self.db = Database.open(settings.storage.url)
        self.coordinator: Coordinator = open_coordinator(settings.redis.url)
        self.keys = load_keys(settings.security)
        self.vault = NikVault(self.keys.nik)
        self.limiter = RateLimiter.open(
            {**settings.ratelimit.rules(), **settings.announcements.limit_rules()},
            settings.redis.url,
            prefix=(
                self.coordinator.prefix
                if isinstance(self.coordinator, RedisCoordinator)
                else "omnihub:"
            ),
        )
        self.channels: dict[str, Channel] = (
            build_channels(
                settings,
                self.coordinator,
                self.templates,
                self._count_not_answered,
                secret=self.keys.secret,
                limiter=self.limiter,
            )
            if include_configured_channels
            else {}
        )
        for channel in extra_channels:
            self.channels[channel.name] = channel
        # Read now, so a malformed services.yaml stops the start with the place at fault.
        self.catalogues = CurrentCatalogue(catalogue_for(settings))
        self.dispatcher = Dispatcher(
            db=self.db,
            channels=self.channels,
            config=settings.outbox,
            metrics=self.metrics,
            on_delivery=self._announce_delivery,
        )
        self.outbound = Outbound(
            db=self.db,
            renderer=Renderer(
                self.templates, settings.locale.default, public_url=settings.server.public_url
            ),
            channels=self.channels,
            coordinator=self.coordinator,
            on_queued=self.dispatcher.notify,
        )
        self.bookings = BookingService(
            self.db,
            self.catalogues,
            settings.booking,
            timezone=zone,
            clock=clock,
            vault=self.vault,
        )
        self.care = CareService(
            self.db,
            self.catalogues,
            settings.care,
            WorkingDays(
                zone,
                weekdays=frozenset(settings.care.working_days),
                holiday_categories=tuple(settings.care.holiday_categories),
                closures=frozenset(settings.care.closures),
            ),
            clock=clock,
            notifier=CareNotices(
                self.outbound, self.catalogues, self.metrics, self.coordinator, zone
            ),
            vault=self.vault,
        )
        self.subscriptions = Subscriptions(
            self.db, settings.announcements, self.catalogues, clock=clock
        )
        self.understanding = Understanding(settings, self.catalogues, self._count_nlu_fallback)
        self.inbound = Inbound(
            settings=settings,
            db=self.db,
            coordinator=self.coordinator,
            understanding=self.understanding,
            dialogs=DialogEngine(
                threshold=settings.nlu.threshold,
                catalogue=self.catalogues,
                bookings=self.bookings,
                care=self.care,
                flow_timeout=timedelta(minutes=settings.dialogs.flow_timeout_minutes),
                subscriptions=self.subscriptions,
            ),
            outbound=self.outbound,
            metrics=self.metrics,
            vault=self.vault,
            clock=clock,
            limiter=self.limiter,
        )
        self.reminders = ReminderSender(self.bookings, self.outbound)
        self.announcements = Announcements(
            self.db, self.subscriptions, self.catalogues, clock=clock
        )
        self.broadcaster = Broadcaster(
            announcements=self.announcements,
            outbound=self.outbound,
            config=settings.announcements,
            limiter=self.limiter,
            secret=self.keys.secret,
            public_url=settings.server.public_url,
            default_locale=settings.locale.default,
            clock=clock,
            live_turns=self.inbound.turns_in_progress,
        )
        self.retention = retention_for(self.db, settings, clock)
        self.scheduler = Scheduler(
            settings,
            self.bookings,
            self.reminders,
            self.care,
            self.retention,
            start_announcements=self._start_due_announcements,
        )
        self.api_tokens = api.TokenStore(self.db, clock=utcnow)
        self.http: ClientSession | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self._broadcast_task: asyncio.Task[None] | None = None
        self._shut_down = False

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue in use (see :meth:`reload_catalogue`)."""
        return self.catalogues.catalogue

    async def prepare_database(self) -> None:
        """Create the schema in an empty database; refuse to run on an old one."""
        await prepare_database(self.db)

    async def start(self, *, dispatch: bool = True) -> None:
        await self.prepare_database()
        self.http = ClientSession(
            timeout=ClientTimeout(total=self.settings.outbox.send_timeout_seconds)
        )
        await self.understanding.start(self.http)
        for channel in self.channels.values():
            await channel.start(self.http)
        recovered = await self.inbound.recover()
        if recovered:
            log.info("resuming unhandled messages", extra={"conversations": recovered})
        if dispatch:
            self._dispatch_task = asyncio.create_task(self.dispatcher.run())
            self._sweep_task = asyncio.create_task(self._sweep_pending())
            self._broadcast_task = asyncio.create_task(self.broadcaster.run())
            if self.settings.scheduler.enabled:
                self.scheduler.start()

    async def reload_catalogue(self) -> Catalogue:
        """Re-read services.yaml and answer from it from the next message on.

        On ``CatalogueError`` (a broken edit, or hours the booking rules cannot read)
        the catalogue in use stays: the error propagates for the caller to report.
        Every reader (dialogs, booking rules, CARE, the NLU's service names, the
        console, the API) asks :attr:`catalogues`, so one swap reaches them all.
        """
        catalogue = await asyncio.to_thread(catalogue_for, self.settings)
        zone = ZoneInfo(self.settings.server.timezone)
        await asyncio.to_thread(BookingCalendar, catalogue, self.settings.booking, zone)
        self.catalogues.replace(catalogue)
        log.info("catalogue reloaded", extra={"services": len(catalogue.services)})
        return catalogue

    async def _start_due_announcements(self) -> None:
        """The scheduler's tick: scheduled announcements whose time came start sending."""
        if await self.announcements.start_due():
            self.broadcaster.notify()

    def announcement_texts(self, record: AnnouncementRecord) -> PreviewTexts:
        """The console's preview: ``record`` as each enabled channel would send it, in
        Indonesian and (when written) English, as the broadcaster renders it; on SMS cut
        to the segment budget (a targeted notice shows a sample booking code)."""
        booking = "B-ABC234" if record.audience else ""
        reply = Reply(
            ANNOUNCEMENT_TEMPLATE,
            {
                "title": record.title,
                "subscribed": bool(record.topics),
                "booking_code": booking,
            },
            choices=booking_actions(booking) if booking else (),
        )
        texts: list[ChannelText] = []
        windows: dict[str, int] = {}
        budget = self.settings.announcements.sms_max_segments
        for channel in self.channels:
            capabilities = self.outbound.capabilities(channel)
            if capabilities.session_window_hours is not None:
                windows[channel] = capabilities.session_window_hours
            for locale, words in (("id", record.text_id), ("en", record.text_en)):
                if not words:
                    continue
                out = self.outbound.render_announcement(
                    Reply(reply.template, {**reply.context, "text": words}, choices=reply.choices),
                    channel=channel,
                    locale=locale,
                    sms_max_segments=budget,
                )
                counted = segments(out.text) if channel == SMS_CHANNEL else None
                texts.append(ChannelText(channel, locale, out.text, counted))
        return PreviewTexts(tuple(texts), template_key(record), windows)

    async def _announce_delivery(self, conversation_id: int, status: str) -> None:
        await announce(self.coordinator, "delivery", conversation_id=conversation_id, status=status)

    def _count_not_answered(self, channel: str, reason: str) -> None:
        self.metrics.not_answered.labels(channel, reason).inc()

    def _count_nlu_fallback(self, reason: str) -> None:
        self.metrics.nlu_fallbacks.labels(reason).inc()

    async def _sweep_pending(self) -> None:
        """Retry messages whose processing an outage interrupted, without a restart."""
        interval = self.settings.pipeline.retry_pending_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.inbound.recover(older_than_seconds=interval)
            except Exception:
                log.warning("sweep for pending messages failed; trying again later")

    async def shutdown(self) -> None:
        """Finish what is in flight: processing first, then sends, then channels."""
        if self._shut_down:
            return
        self._shut_down = True
        await self.scheduler.stop()
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweep_task
        await self.inbound.close(self.settings.server.shutdown_grace_seconds)
        await self.broadcaster.stop()
        if self._broadcast_task is not None:
            await self._broadcast_task
        await self.dispatcher.stop()
        if self._dispatch_task is not None:
            await self._dispatch_task
        for channel in self.channels.values():
            try:
                await channel.stop()
            except Exception:
                log.exception("channel did not stop cleanly", extra={"channel": channel.name})

    async def close(self) -> None:
        await self.shutdown()
        if self.http is not None:
            await self.http.close()
        await self.limiter.close()
        await self.coordinator.close()
        await self.db.close()


HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
METRICS_ACCESS: web.AppKey[MetricsAccess] = web.AppKey("metrics_access", MetricsAccess)


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No stack trace ever reaches a client; a shutting-down hub answers 503."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except NotAccepting:
        return web.json_response({"error": "shutting down, retry"}, status=503)
    except Exception:
        log.exception("request failed", extra={"path": request.path})
        return web.json_response({"error": "internal error"}, status=500)


async def healthz(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    checks = {"database": await hub.db.ping()}
    if hub.settings.redis.url:
        checks["redis"] = await hub.coordinator.ping()
    healthy = all(checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus scrape: addresses in ``security.metrics_allow`` or the bearer
    ``security.metrics_token`` only (hub.web.metrics_access); anyone else gets 403."""
    hub = request.app[HUB]
    if not request.app[METRICS_ACCESS].allows(request):
        raise web.HTTPForbidden(text="forbidden\n")
    try:
        hub.metrics.outbox_depth.set(await outbox_store.depth(hub.db))
    except Exception:
        log.warning("outbox depth unavailable for /metrics")
    return web.Response(
        body=hub.metrics.render(), headers={"Content-Type": hub.metrics.content_type}
    )


def create_app(
    settings: Settings,
    *,
    extra_channels: Sequence[Channel] = (),
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    """The aiohttp application: channel routes, REST API, health and metrics, tied to one Hub."""
    hub = Hub(settings, extra_channels=extra_channels, clock=clock)
    app = web.Application(middlewares=[errors_middleware], client_max_size=1024**2)
    app[HUB] = hub
    app[METRICS_ACCESS] = MetricsAccess(settings)
    api_context = api.ApiContext(
        bookings=hub.bookings,
        tokens=hub.api_tokens,
        care=hub.care,
        announcements=hub.announcements,
        announcement_started=hub.broadcaster.notify,
    )
    app.add_subapp(api.PREFIX, api.api_app(api_context))
    if settings.console.enabled:
        console = ConsoleContext(
            db=hub.db,
            settings=settings,
            coordinator=hub.coordinator,
            clock=clock,
            templates=hub.templates,
            care=hub.care,
            officer_reply=hub.outbound.officer_reply,
            catalogue=lambda: hub.catalogues.catalogue,
            limiter=hub.limiter,
            announcements=hub.announcements,
            announcement_texts=hub.announcement_texts,
        )
        app.add_subapp(CONSOLE_PREFIX, console_app(console))

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await hub.start()
        yield
        await hub.close()

    async def on_shutdown(_app: web.Application) -> None:
        await hub.shutdown()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    trust = TrustPage(
        db=hub.db,
        settings=settings,
        catalogue=lambda: hub.catalogues.catalogue,
        working_days=hub.care.working_days,
        templates=hub.templates,
        clock=clock,
    )
    app.router.add_routes(trust.routes())  # public: aggregates only (docs/trust.md)
    add_media_routes(app)
    add_unsubscribe_routes(
        app,
        hub.subscriptions,
        hub.keys.secret,
        jinja2.Environment(loader=jinja2.FileSystemLoader(hub.templates / "web"), autoescape=True),
    )
    for channel in hub.channels.values():
        for route in channel.routes(hub.inbound.accept, hub.inbound.record_status):
            app.router.add_route(route.method, route.path, route.handler)
    return app

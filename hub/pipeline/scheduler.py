"""The hub's timed jobs on APScheduler: due reminders, CARE deadlines and scheduled
announcements every tick, no-shows at the day's end, the retention purge daily at
``privacy.purge_at``.

APScheduler decides *when* a job runs; the SQL database decides *what* is left to
do. Every job claims its work with a conditional write (a reminder's row, a
booking's status change), so the jobs run in every hub process and still act
once, and a restart resumes from what the database says. That is why the jobs
themselves are kept in APScheduler's memory store: they are the same fixed few
in every process, rebuilt at start. (APScheduler 3's SQLAlchemy job store is
synchronous and does not coordinate several schedulers sharing it; see docs/operations.md.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.booking import BookingService
from hub.care.service import CareService
from hub.config import Settings
from hub.pipeline.booking_reminders import ReminderSender
from hub.store.retention import Retention

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]

STOP_GRACE_SECONDS = 10.0
"""How long a stopping hub lets a job that is running finish."""


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        bookings: BookingService,
        reminders: ReminderSender,
        care: CareService,
        retention: Retention | None = None,
        start_announcements: Job | None = None,
    ) -> None:
        """``start_announcements`` starts the scheduled announcements that are due."""
        self.settings = settings
        self.start_announcements = start_announcements
        self.bookings = bookings
        self.reminders = reminders
        self.care = care
        self.retention = retention
        self._stopping = False
        self._scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.server.timezone))
        self._running: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Add the jobs and start ticking; the first run of each comes right away, which
        also catches up on what the hub missed while it was down."""
        tick = IntervalTrigger(seconds=self.settings.scheduler.tick_seconds)
        self._add("reminders", self.reminders.send_due, tick)
        self._add("care_deadlines", self.care.check_deadlines, tick)
        if self.start_announcements is not None:
            self._add("announcements", self.start_announcements, tick)
        closing = self.settings.booking.no_show_at
        self._add(
            "no_shows",
            self.bookings.close_days,
            CronTrigger(
                hour=closing.hour, minute=closing.minute, timezone=self._scheduler.timezone
            ),
        )
        days = self.settings.privacy.retention_days
        if days is not None and self.retention is not None:
            purge = DailyPurge(
                self.retention,
                timedelta(days=days),
                self.settings.privacy.purge_at,
                self._scheduler.timezone,
                stopping=lambda: self._stopping,
            )
            self._add("retention_purge", purge.run_if_due, tick)
        self._scheduler.start()
        log.info("scheduler started", extra={"jobs": [j.id for j in self._scheduler.get_jobs()]})

    def _add(self, name: str, job: Job, trigger: IntervalTrigger | CronTrigger) -> None:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                # Stopping: what the job had not claimed is done by the next run anywhere.
                log.info("scheduled job cut short by shutdown", extra={"job": name})
            except Exception:
                log.exception("scheduled job failed; it runs again at its next time")
            finally:
                self._running.discard(task)

        self._scheduler.add_job(
            run,
            trigger,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(self._scheduler.timezone),
        )

    def job_ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    async def stop(self) -> None:
        """No new runs; a run in progress may finish (its database work is short), and
        only one still running after ``STOP_GRACE_SECONDS`` is cancelled. Cancelling a
        job in the middle of a query would leave a connection the pool cannot close."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.pause()
        # A run handed to the loop just before the pause starts now and registers itself.
        for _ in range(3):
            await asyncio.sleep(0)
        running = list(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


class DailyPurge:
    """The retention purge once a day at ``at`` on the hub's clock (which tests move).

    Checked every tick rather than put on a cron trigger, so the hub's clock, not the
    machine's, decides. The first due moment is the next ``at`` after the process
    starts: a restart does not purge at once, and a day missed while the hub was down
    is made up the next day (each purge takes everything past the retention period).
    Every process runs it; the purge claims each conversation once (``hub.store.retention``).
    """

    def __init__(
        self,
        retention: Retention,
        older_than: timedelta,
        at: time,
        zone: tzinfo,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.retention = retention
        self.stopping = stopping
        self.older_than = older_than
        self.at = at
        self.zone = zone
        self._done = self._latest_moment()

    def _latest_moment(self) -> datetime:
        now = self.retention.clock().astimezone(self.zone)
        moment = datetime.combine(now.date(), self.at, self.zone)
        return moment if moment <= now else moment - timedelta(days=1)

    async def run_if_due(self) -> None:
        moment = self._latest_moment()
        if moment <= self._done:
            return
        self._done = moment
        report = await self.retention.purge(self.older_than, stopping=self.stopping)
        log.info("retention purge done", extra={"conversations": report.conversations})

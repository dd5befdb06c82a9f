"""The hub's timed jobs on APScheduler: due reminders and CARE deadlines every tick,
no-shows at the day's end.

APScheduler decides *when* a job runs; the SQL database decides *what* is left to
do. Every job claims its work with a conditional write (a reminder's row, a
booking's status change), so the jobs run in every hub process and still act
once, and a restart resumes from what the database says. That is why the jobs
themselves are kept in APScheduler's memory store: they are the same fixed few
in every process, rebuilt at start. (APScheduler 3's SQLAlchemy job store is
synchronous and does not coordinate several schedulers sharing it; see README.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.booking import BookingService
from hub.care.service import CareService
from hub.config import Settings
from hub.reminders import ReminderSender

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
    ) -> None:
        self.settings = settings
        self.bookings = bookings
        self.reminders = reminders
        self.care = care
        self._scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.server.timezone))
        self._running: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Add the jobs and start ticking; the first run of each comes right away, which
        also catches up on what the hub missed while it was down."""
        tick = IntervalTrigger(seconds=self.settings.scheduler.tick_seconds)
        self._add("reminders", self.reminders.send_due, tick)
        self._add("care_deadlines", self.care.check_deadlines, tick)
        closing = self.settings.booking.no_show_at
        self._add(
            "no_shows",
            self.bookings.close_days,
            CronTrigger(
                hour=closing.hour, minute=closing.minute, timezone=self._scheduler.timezone
            ),
        )
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

"""Handing announcements to the outbox, paced per channel, behind the live replies.

A sending announcement's recipients wait as queued delivery rows (drawn when it
started). Every round, each channel gets a few of them: no more than its pace allows
(``announcements.rate_per_second``, counted in the shared rate limiter, so with
Redis all processes together keep it) and no more than leaves ``announcements.backlog``
rows waiting in the outbox. Those rows are in the bulk lane, which a dispatcher takes
only when no live reply is due, so a broadcast to 20,000 citizens never makes a
citizen in a conversation wait. A delivery row moves to ``handed`` in the transaction
that writes its message, so a restart resumes where it stopped and nobody gets the
same announcement twice; a paused announcement is simply not looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.announcements import Announcements
from hub.announcements.unsubscribe_links import token_for
from hub.config import AnnouncementsConfig
from hub.coordination.ratelimit import RateLimiter
from hub.dialogs.booking_choices import booking_actions
from hub.dialogs.offered import after_notice
from hub.model import Reply, utcnow
from hub.pipeline.outbound import Outbound
from hub.store import announcements as store
from hub.store import conversations
from hub.store.announcements import AnnouncementRecord, DeliveryRecord

log = logging.getLogger(__name__)

TEMPLATE = "announcement"
SUBJECT_TEMPLATE = "announcement_subject"
HAND_CHUNK = 5
"""Deliveries handed per transaction."""
BOOKING_TEMPLATE_KEY = "announcement_booking"
"""The approved WhatsApp template of a targeted notice; a topic's is ``announcement_<topic>``."""


def template_key(announcement: AnnouncementRecord) -> str:
    """The provider template sent outside WhatsApp's 24-hour window (configured per topic
    under the channel's ``templates``)."""
    if announcement.audience or not announcement.topics:
        return BOOKING_TEMPLATE_KEY
    return f"{TEMPLATE}_{announcement.topics[0]}"


class Broadcaster:
    def __init__(
        self,
        *,
        announcements: Announcements,
        outbound: Outbound,
        config: AnnouncementsConfig,
        limiter: RateLimiter,
        secret: bytes,
        public_url: str,
        default_locale: str = "id",
        tick_seconds: float = 0.25,
        clock: Callable[[], datetime] = utcnow,
        live_turns: Callable[[], int] = lambda: 0,
        yield_seconds: float = 1.0,
    ) -> None:
        """``live_turns`` says how many citizens' messages this process is answering:
        while there are some, a broadcast waits (up to ``yield_seconds`` between two
        hand-overs), so its work never competes with a live reply for the processor."""
        self.announcements = announcements
        self.db = announcements.db
        self.outbound = outbound
        self.config = config
        self.limiter = limiter
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.default_locale = default_locale
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.live_turns = live_turns
        self.yield_seconds = yield_seconds
        self._last_handed = 0.0
        self._stopping = False
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """An announcement started: look now rather than at the next tick."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.round()
            except Exception:
                log.exception("announcement round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick_seconds)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def round(self) -> int:
        """Hand what each channel may take now; returns how many messages were queued."""
        loop = asyncio.get_running_loop()
        if self.live_turns() and loop.time() - self._last_handed < self.yield_seconds:
            return 0
        handed = 0
        for announcement in await self.announcements.sending():
            async with self.db.engine.connect() as conn:
                channels = await store.queued_channels(conn, announcement.id)
            if not channels:
                if await self.announcements.finish_if_done(announcement.id):
                    log.info("announcement sent", extra={"announcement": announcement.id})
                continue
            for channel in channels:
                handed += await self._hand(announcement, channel)
        if handed:
            self._last_handed = loop.time()
            self.outbound.queued()
        return handed

    async def drain(self) -> None:
        """Hand everything over as fast as the pacing and the backlog allow (tests)."""
        while True:
            busy = False
            for announcement in await self.announcements.sending():
                async with self.db.engine.connect() as conn:
                    busy = busy or bool(await store.queued_channels(conn, announcement.id))
            if not busy:
                return
            if not await self.round():
                # Paced or the backlog is full: give the window (or a dispatcher) time.
                await asyncio.sleep(0.1)

    async def _hand(self, announcement: AnnouncementRecord, channel: str) -> int:
        """Hand what the pace and the backlog allow, a few per transaction: on SQLite a
        long write would hold up the live conversations' writes."""
        rule = self.config.rule_for(channel)
        async with self.db.engine.connect() as conn:
            room = self.config.backlog - await store.bulk_waiting(conn, channel)
        handed = 0
        while room > 0:
            allowed = 0
            while (
                allowed < min(room, HAND_CHUNK) and (await self.limiter.hit(rule, channel)).allowed
            ):
                allowed += 1
            if not allowed:
                break
            async with self.db.begin() as conn:
                batch = await store.queued_batch(
                    conn, announcement.id, channel, allowed, announcement.topics
                )
                for delivery in batch:
                    if await self._hand_one(conn, announcement, delivery):
                        handed += 1
            if len(batch) < allowed:
                break
            room -= allowed
            await asyncio.sleep(0)
            if self.live_turns():
                break  # a citizen is waiting for an answer: they go first
        return handed

    async def _hand_one(
        self, conn: AsyncConnection, announcement: AnnouncementRecord, delivery: DeliveryRecord
    ) -> bool:
        now = self.clock()
        if not delivery.subscribed:
            # Opted out after the audience was drawn: consent wins over the list.
            await store.finish_delivery(conn, delivery.id, store.SKIPPED, now, None)
            return False
        # Claimed before the message is written: a row another process took is left alone.
        if not await store.finish_delivery(conn, delivery.id, store.HANDED, now, None):
            return False
        conversation = await conversations.open_for_notice(
            conn,
            delivery.contact_id,
            delivery.channel,
            delivery.address,
            delivery.locale or self.default_locale,
        )
        locale = conversation.locale
        text = (
            announcement.text_en
            if locale == "en" and announcement.text_en
            else announcement.text_id
        )
        choices = booking_actions(delivery.booking_code) if delivery.booking_code else ()
        reply = Reply(
            TEMPLATE,
            {
                "title": announcement.title,
                "text": text,
                "booking_code": delivery.booking_code or "",
                "subscribed": bool(announcement.topics),
            },
            choices=choices,
        )
        subject = self.outbound.renderer.text(
            SUBJECT_TEMPLATE, locale, conversation.channel, title=announcement.title
        )
        unsubscribe_url = (
            f"{self.public_url}/unsubscribe/{token_for(delivery.contact_id, self.secret)}"
            if announcement.topics
            else ""
        )
        message_id = await self.outbound.announcement(
            conn,
            conversation,
            reply,
            template_key=template_key(announcement),
            subject=subject,
            unsubscribe_url=unsubscribe_url,
            sms_max_segments=self.config.sms_max_segments,
            state_after=after_notice if choices else None,
        )
        await store.set_message(conn, delivery.id, message_id)
        return True

"""The durable dispatcher: sends what the outbox holds, retrying with backoff.

Every reply is a row before it is a send, so a provider outage or a restart only
delays it. Rows are claimed with a lease (see ``hub.store.outbox``), so no row is
sent by two dispatchers; a send that fails transiently waits
``base * 2**(attempt-1)`` seconds (capped, with jitter, or the provider's
``retry_after``) and is given up as ``failed`` after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from hub.channels.base import Channel, ChannelError
from hub.config import OutboxConfig
from hub.metrics import Metrics
from hub.model import DeliveryStatus, OutboundMessage, utcnow
from hub.store import Database, contacts, messages
from hub.store import outbox as store
from hub.store.records import OutboxRecord

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        channels: Mapping[str, Channel],
        config: OutboxConfig,
        metrics: Metrics,
        on_delivery: Callable[[int, str], Awaitable[None]] | None = None,
    ) -> None:
        """``on_delivery(conversation_id, status)`` hears of each send and final failure
        (the console's live view); it must not raise."""
        self.db = db
        self.channels = channels
        self.config = config
        self.metrics = metrics
        self.on_delivery = on_delivery
        self._wake = asyncio.Event()
        self._stopping = False
        self._rng = random.Random()

    def notify(self) -> None:
        """New rows were queued: look now rather than at the next poll."""
        self._wake.set()

    def backoff(self, attempts: int) -> float:
        delay = self.config.backoff_base_seconds * (2 ** max(0, attempts - 1))
        delay = min(delay, self.config.backoff_max_seconds)
        return float(delay * self._rng.uniform(0.8, 1.2))

    async def run(self) -> None:
        """Send until :meth:`stop`; polls so rows queued by other processes go too."""
        while not self._stopping:
            # Cleared before looking, so a notify() during the awaits below is kept.
            self._wake.clear()
            try:
                sent = await self.dispatch_once()
            except Exception:
                log.exception("outbox dispatch round failed")
                sent = 0
            if sent or self._stopping:
                continue
            timeout = self.config.poll_seconds
            try:
                due = await store.next_due_in(self.db, list(self.channels))
            except Exception:
                due = None
            if due is not None:
                timeout = min(timeout, due)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def dispatch_once(self) -> int:
        """Claim and send one batch of due rows; returns how many were claimed."""
        if not self.channels:
            return 0
        claimed = await store.claim_due(
            self.db, list(self.channels), self.config.concurrency, self.config.lease_seconds
        )
        if claimed:
            await asyncio.gather(*(self._send(row) for row in claimed))
        return len(claimed)

    async def drain(self) -> None:
        """Send everything due now, for the terminal chat and tests."""
        while await self.dispatch_once():
            pass

    async def _send(self, row: OutboxRecord) -> None:
        channel = self.channels[row.channel]
        message = OutboundMessage.from_dict(row.payload)
        window = channel.capabilities.session_window_hours
        if window is not None:
            message = dataclasses.replace(message, window_open=await self._window_open(row, window))
        try:
            result = await asyncio.wait_for(channel.send(message), self.config.send_timeout_seconds)
        except ChannelError as exc:
            await self._failed_attempt(row, exc.reason, exc.permanent, exc.retry_after)
            return
        except TimeoutError:
            await self._failed_attempt(row, "timeout", False, None)
            return
        except Exception as exc:
            log.exception("channel raised unexpectedly", extra={"channel": row.channel})
            await self._failed_attempt(row, f"{type(exc).__name__}: {exc}", False, None)
            return
        async with self.db.begin() as conn:
            await store.mark_sent(conn, row.id)
            await messages.set_delivery(
                conn,
                row.message_id,
                result.status,
                provider_message_id=result.provider_message_id,
                segments=result.segments,
            )
        self.metrics.outbound.labels(row.channel, "sent").inc()
        if self.on_delivery is not None:
            await self.on_delivery(row.conversation_id, "sent")

    async def _window_open(self, row: OutboxRecord, hours: int) -> bool:
        """Whether the citizen wrote on this channel within the provider's window."""
        recipient = str(row.payload.get("recipient", ""))
        async with self.db.engine.connect() as conn:
            last = await contacts.last_inbound_at(conn, row.channel, recipient)
        return last is not None and utcnow() - last < timedelta(hours=hours)

    async def _failed_attempt(
        self, row: OutboxRecord, reason: str, permanent: bool, retry_after: float | None
    ) -> None:
        reason = reason[:500]
        give_up = permanent or row.attempts >= self.config.max_attempts
        async with self.db.begin() as conn:
            if give_up:
                await store.mark_failed(conn, row.id, reason)
                await messages.set_delivery(
                    conn, row.message_id, DeliveryStatus.FAILED, error=reason
                )
            else:
                delay = retry_after if retry_after is not None else self.backoff(row.attempts)
                await store.mark_retry(conn, row.id, reason, utcnow() + timedelta(seconds=delay))
        result = "failed" if give_up else "retry"
        self.metrics.outbound.labels(row.channel, result).inc()
        if give_up and self.on_delivery is not None:
            await self.on_delivery(row.conversation_id, "failed")
        log.warning(
            "send %s",
            "failed for good" if give_up else "will be retried",
            extra={
                "channel": row.channel,
                "outbox_id": row.id,
                "attempt": row.attempts,
                "reason": reason,
            },
        )

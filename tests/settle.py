"""Knowing that a hub has finished answering, instead of waiting for it to go quiet.

A hub in a test is settled when every inbound message it accepted is processed (no
processing task left, none pending in the database) and its outbox holds nothing
unsent. Every reply queued by then has reached its channel: a fake provider has
recorded it, or the web chat has published it to the visitor's socket. Waiting for
this is exact where waiting for a quiet spell only guesses, and it ends as soon as
the hub is done.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from hub.app import Hub
from hub.model import ProcessingState
from hub.store import outbox as outbox_store
from hub.store.tables import messages, outbox

POLL = 0.01
"""Seconds between looks at the database while replies are still on their way."""
TIMEOUT = 15.0


async def _busy(hub: Hub) -> tuple[int, int]:
    """Inbound messages still to process and outbox rows still to send."""
    pending = (
        sa.select(sa.func.count())
        .select_from(messages)
        .where(messages.c.processing == ProcessingState.PENDING.value)
    )
    unsent = (
        sa.select(sa.func.count())
        .select_from(outbox)
        .where(outbox.c.status.in_(outbox_store.UNSENT))
    )
    async with hub.db.engine.connect() as conn:
        return int(await conn.scalar(pending) or 0), int(await conn.scalar(unsent) or 0)


async def settled(hub: Hub, timeout: float = TIMEOUT) -> None:
    """Return once ``hub`` has processed every message and sent every queued reply.

    Call it after the hub acknowledged the message (the webhook's 200, the web chat's
    ack): processing is scheduled by then, so a turn's replies are all counted."""
    busy = (0, 0)
    try:
        async with asyncio.timeout(timeout):
            while True:
                await hub.inbound.idle()
                busy = await _busy(hub)
                if busy == (0, 0):
                    return
                await asyncio.sleep(POLL)
    except TimeoutError:
        pending, unsent = busy
        raise AssertionError(
            f"hub not settled after {timeout}s: {pending} inbound pending, {unsent} unsent"
        ) from None

"""Telling citizens and the console about CARE ticket changes.

The CARE domain knows no channel: it calls this notifier inside each change's
transaction (the citizen's message is queued in the outbox with the change, so it
is sent once and never lost) and after the commit (wake the dispatcher, nudge the
consoles, count SLA breaches).
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.care.service import Change, Ticket
from hub.catalogue import Catalogue
from hub.dialogs.care import notice_state, ticket_notice
from hub.gateway import Gateway
from hub.live import announce
from hub.metrics import Metrics
from hub.model import Reply


class CareNotices:
    def __init__(
        self,
        gateway: Gateway,
        catalogue: Callable[[], Catalogue],
        metrics: Metrics,
        zone: ZoneInfo,
    ) -> None:
        """``catalogue`` is read at each change, so a reload is used at once; ``zone``
        (server.timezone) is the one the notices' dates are told in."""
        self.gateway = gateway
        self.catalogue = catalogue
        self.metrics = metrics
        self.zone = zone

    async def ticket_changed(self, conn: AsyncConnection, ticket: Ticket, change: Change) -> None:
        if ticket.conversation_id is None:
            return
        catalogue = self.catalogue()

        def replies(locale: str) -> list[Reply]:
            return ticket_notice(ticket, change, catalogue, locale, self.zone)

        await self.gateway.queue_notice(
            conn, ticket.conversation_id, replies, state=notice_state(ticket, change)
        )

    async def committed(self, ticket: Ticket, change: Change) -> None:
        self.gateway.on_queued()
        if change.kind == "sla_breach":
            self.metrics.sla_breaches.labels(ticket.agency or "-").inc()
        await announce(
            self.gateway.coordinator,
            "ticket",
            ticket_id=ticket.ticket_id,
            status=ticket.status,
            change=change.kind,
        )

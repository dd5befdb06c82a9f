"""Telling citizens and the console about CARE ticket changes.

The CARE domain knows no channel: it calls this notifier inside each change's
transaction (the citizen's message is queued in the outbox with the change, so it
is sent once and never lost) and after the commit (wake the dispatcher, nudge the
consoles, count SLA breaches). The words and the state a notice leaves (a rating
now awaited) are the dialogs'; sending them is the outbound service's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.care.service import Change, Ticket
from hub.catalogue import CurrentCatalogue
from hub.coordination import Coordinator
from hub.coordination.live import announce
from hub.dialogs.care import notice_state, ticket_notice
from hub.dialogs.offered import after_notice
from hub.metrics import Metrics
from hub.model import Reply
from hub.pipeline.outbound import Outbound


class CareNotices:
    def __init__(
        self,
        outbound: Outbound,
        catalogues: CurrentCatalogue,
        metrics: Metrics,
        coordinator: Coordinator,
        zone: ZoneInfo,
    ) -> None:
        """The catalogue in use is read at each change, so a reload is used at once;
        ``zone`` (server.timezone) is the one the notices' dates are told in."""
        self.outbound = outbound
        self.catalogues = catalogues
        self.metrics = metrics
        self.coordinator = coordinator
        self.zone = zone

    async def ticket_changed(self, conn: AsyncConnection, ticket: Ticket, change: Change) -> None:
        if ticket.conversation_id is None:
            return
        catalogue = self.catalogues.catalogue
        awaiting = notice_state(ticket, change)

        def replies(locale: str) -> list[Reply]:
            return ticket_notice(ticket, change, catalogue, locale, self.zone)

        def state_after(state: Mapping[str, Any], sent: list[Reply]) -> dict[str, Any] | None:
            return after_notice(state, sent, awaiting)

        await self.outbound.notice(conn, ticket.conversation_id, replies, state_after=state_after)

    async def committed(self, ticket: Ticket, change: Change) -> None:
        self.outbound.queued()
        if change.kind == "sla_breach":
            self.metrics.sla_breaches.labels(ticket.agency or "-").inc()
        await announce(
            self.coordinator,
            "ticket",
            ticket_id=ticket.ticket_id,
            status=ticket.status,
            change=change.kind,
        )

"""Who a draft would reach, counted per channel before anything is drawn.

The same routes as the audience drawn when sending starts (hub.store.announcements):
a subscriber on the channel of their open conversation, else where they subscribed;
a booked citizen on their booking's conversation. Counted by channel and language,
and for channels with a session window (WhatsApp) how many wrote recently enough to
get free-form text rather than a template. Read-only: nothing here is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.announcements import booked_routes, subscriber_routes
from hub.store.tables import identities


@dataclass(frozen=True, slots=True)
class ChannelAudience:
    channel: str
    locale: str
    recipients: int
    inside_window: int
    """Of them, those whose last message on this channel is within its session window
    (0 for a channel without one)."""


async def _count(
    conn: AsyncConnection,
    routes: sa.Subquery,
    window_hours: Mapping[str, int],
    now: datetime,
    default_locale: str,
) -> list[ChannelAudience]:
    """Group ``routes`` (contact_id, channel, address, locale) by channel and language."""
    inside: sa.ColumnElement[int] = sa.literal(0)
    if window_hours:
        inside = sa.case(
            *[
                (
                    sa.and_(
                        routes.c.channel == channel,
                        identities.c.last_inbound_at >= now - timedelta(hours=hours),
                    ),
                    1,
                )
                for channel, hours in window_hours.items()
            ],
            else_=0,
        )
    locale = sa.func.coalesce(routes.c.locale, default_locale)
    rows = await conn.execute(
        sa.select(
            routes.c.channel,
            locale.label("locale"),
            sa.func.count().label("recipients"),
            sa.func.coalesce(sa.func.sum(inside), 0).label("inside"),
        )
        .select_from(routes)
        .outerjoin(
            identities,
            sa.and_(
                identities.c.channel == routes.c.channel,
                identities.c.address == routes.c.address,
            ),
        )
        .group_by(routes.c.channel, locale)
        .order_by(routes.c.channel, locale)
    )
    return [
        ChannelAudience(str(r.channel), str(r.locale), int(r.recipients), int(r.inside))
        for r in rows
    ]


async def subscribers_by_channel(
    conn: AsyncConnection,
    topics: Sequence[str],
    *,
    window_hours: Mapping[str, int],
    now: datetime,
    default_locale: str,
) -> list[ChannelAudience]:
    """The subscribers of any of ``topics``, once each, by the channel they would get it on."""
    return await _count(conn, subscriber_routes(topics), window_hours, now, default_locale)


async def booked_by_channel(
    conn: AsyncConnection,
    service_ids: Sequence[str],
    day: date,
    *,
    window_hours: Mapping[str, int],
    now: datetime,
    default_locale: str,
) -> list[ChannelAudience]:
    """The citizens with an active booking of ``service_ids`` on ``day``, once each, by
    the channel of their booking's conversation."""
    return await _count(conn, booked_routes(service_ids, day), window_hours, now, default_locale)

"""The audit log: who did what to which thing, and when; rows are only ever added.

The detail is for context (a status change, a reason), not for citizens' data: any
run of digits long enough to be a phone number or a NIK (10 or more, a leading ``+``
included, or an Indonesian mobile number written with separators) is masked before
it is stored, whatever the caller passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.tables import audit_events

MASK = "[disamarkan]"
_PERSONAL_NUMBER = re.compile(
    r"\+?\d{10,}"  # a NIK (16 digits) or a phone number written in one piece
    r"|(?:\+?62|\b0)8\d{1,3}(?:[\s.-]\d{2,5}){1,3}"  # 0812-3456-7890, +62 812 3456 7890
)


@dataclass(frozen=True, slots=True)
class AuditEventRecord:
    id: int
    at: datetime
    officer_id: int | None
    action: str
    target_kind: str
    target_id: str
    detail: dict[str, Any]


def scrub(value: Any) -> Any:
    """``value`` with every phone- or NIK-like number masked, at any depth."""
    if isinstance(value, str):
        return _PERSONAL_NUMBER.sub(MASK, value)
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**9:
        return MASK
    return value


async def record(
    conn: AsyncConnection,
    *,
    at: datetime,
    officer_id: int | None,
    action: str,
    target_kind: str = "",
    target_id: str | int = "",
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Add one event; its id."""
    event_id = await conn.scalar(
        sa.insert(audit_events)
        .values(
            at=at,
            officer_id=officer_id,
            action=action[:64],
            target_kind=target_kind[:32],
            target_id=str(target_id)[:64],
            detail=scrub(dict(detail or {})),
        )
        .returning(audit_events.c.id)
    )
    return int(event_id or 0)


async def recent(
    conn: AsyncConnection, limit: int, officer_id: int | None = None
) -> list[AuditEventRecord]:
    """The newest events first, all of them or one officer's."""
    query = sa.select(audit_events).order_by(audit_events.c.at.desc(), audit_events.c.id.desc())
    if officer_id is not None:
        query = query.where(audit_events.c.officer_id == officer_id)
    rows = await conn.execute(query.limit(limit))
    return [
        AuditEventRecord(
            id=int(r.id),
            at=r.at,
            officer_id=None if r.officer_id is None else int(r.officer_id),
            action=str(r.action),
            target_kind=str(r.target_kind),
            target_id=str(r.target_id),
            detail=dict(r.detail or {}),
        )
        for r in rows
    ]


async def recorded_since(
    conn: AsyncConnection,
    *,
    officer_id: int,
    action: str,
    target_kind: str,
    target_id: str | int,
    since: datetime,
) -> bool:
    """Whether this officer's ``action`` on this target is in the log since ``since`` (a
    page refreshing itself live is one read, not one per refresh)."""
    found = await conn.scalar(
        sa.select(audit_events.c.id)
        .where(
            audit_events.c.officer_id == officer_id,
            audit_events.c.action == action[:64],
            audit_events.c.target_kind == target_kind[:32],
            audit_events.c.target_id == str(target_id)[:64],
            audit_events.c.at >= since,
        )
        .limit(1)
    )
    return found is not None

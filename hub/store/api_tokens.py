"""REST API tokens: rows keyed by the SHA-256 of the token, never the token itself.

``scopes`` is a JSON list of scope names, or NULL for a token made before scopes
existed; what those mean is ``hub.api.scopes``' business, not the store's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.tables import api_tokens


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    """A token as an operator sees it: no hash, so a listing can never leak one."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scopes: tuple[str, ...] | None
    """As stored, sorted; None for a token older than scopes (``hub.api.scopes.granted``)."""

    @property
    def active(self) -> bool:
        return self.revoked_at is None


_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.name,
    api_tokens.c.created_at,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
    api_tokens.c.scopes,
)


def _record(row: Any) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=int(row.id),
        name=str(row.name),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scopes=None if row.scopes is None else tuple(sorted(str(s) for s in row.scopes)),
    )


async def insert(
    conn: AsyncConnection, name: str, token_hash: str, at: datetime, scopes: list[str]
) -> ApiTokenRecord:
    """A new token row; IntegrityError when the name is taken."""
    row = (
        await conn.execute(
            sa.insert(api_tokens)
            .values(name=name, token_hash=token_hash, created_at=at, scopes=sorted(scopes))
            .returning(*_COLUMNS)
        )
    ).one()
    return _record(row)


async def by_hash(conn: AsyncConnection, token_hash: str) -> ApiTokenRecord | None:
    """The token whose hash this is, revoked or not (an index lookup on the unique hash)."""
    row = (
        await conn.execute(sa.select(*_COLUMNS).where(api_tokens.c.token_hash == token_hash))
    ).one_or_none()
    return None if row is None else _record(row)


async def all_tokens(conn: AsyncConnection) -> list[ApiTokenRecord]:
    rows = await conn.execute(sa.select(*_COLUMNS).order_by(api_tokens.c.name))
    return [_record(r) for r in rows]


async def revoke(conn: AsyncConnection, name: str, at: datetime) -> bool:
    """Revoke the named token; False when no active token has that name."""
    result = await conn.execute(
        sa.update(api_tokens)
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(result.rowcount == 1)


async def touch(conn: AsyncConnection, token_id: int, at: datetime, every: timedelta) -> None:
    """Record a use, at most once per ``every``: a busy kiosk does not write on each call.

    The condition is in the UPDATE, so concurrent requests in several processes
    write once between them.
    """
    await conn.execute(
        sa.update(api_tokens)
        .where(
            api_tokens.c.id == token_id,
            sa.or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at <= at - every),
        )
        .values(last_used_at=at)
    )

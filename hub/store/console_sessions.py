"""Console login sessions, keyed by the SHA-256 of the cookie, never the cookie itself.

A stolen copy of the database therefore holds no usable session. A session counts
only while it has not expired and its officer is active, so deactivating an account
ends its sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store import officers as officer_store
from hub.store.officers import OfficerRecord
from hub.store.tables import console_sessions, officers


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    officer_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime


async def insert(
    conn: AsyncConnection,
    *,
    token_hash: str,
    officer_id: int,
    csrf_token: str,
    created_at: datetime,
    expires_at: datetime,
) -> SessionRecord:
    record = SessionRecord(token_hash, officer_id, csrf_token, created_at, expires_at)
    await conn.execute(
        sa.insert(console_sessions).values(
            token_hash=token_hash,
            officer_id=officer_id,
            csrf_token=csrf_token,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
    return record


async def valid(
    conn: AsyncConnection, token_hash: str, now: datetime
) -> tuple[SessionRecord, OfficerRecord] | None:
    """The unexpired session with this hash and its active officer, or None."""
    row = (
        await conn.execute(
            sa.select(console_sessions)
            .join(officers, officers.c.id == console_sessions.c.officer_id)
            .where(
                console_sessions.c.token_hash == token_hash,
                console_sessions.c.expires_at > now,
                officers.c.active.is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    officer = await officer_store.by_id(conn, int(row.officer_id))
    if officer is None:
        return None
    session = SessionRecord(
        token_hash=str(row.token_hash),
        officer_id=int(row.officer_id),
        csrf_token=str(row.csrf_token),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
    return session, officer


async def delete(conn: AsyncConnection, token_hash: str) -> bool:
    """End one session (logout); False when it did not exist."""
    result = await conn.execute(
        sa.delete(console_sessions).where(console_sessions.c.token_hash == token_hash)
    )
    return bool(result.rowcount == 1)


async def delete_for_officer(
    conn: AsyncConnection, officer_id: int, *, keep: str | None = None
) -> int:
    """End every session of an officer (new password, deactivation) but ``keep`` (the
    token hash of the session that changed the password); how many ended."""
    query = sa.delete(console_sessions).where(console_sessions.c.officer_id == officer_id)
    if keep is not None:
        query = query.where(console_sessions.c.token_hash != keep)
    result = await conn.execute(query)
    return int(result.rowcount)


async def delete_expired(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(
        sa.delete(console_sessions).where(console_sessions.c.expires_at <= now)
    )
    return int(result.rowcount)

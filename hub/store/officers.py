"""Officer accounts: who may use the console, their role, agencies and login failures.

Records never carry the password hash; only :func:`credentials` hands it out, for the
one place that verifies a login. Failed logins are counted and the lock set by one
conditional UPDATE, so two wrong passwords arriving at once in two processes are two
failures, never one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.tables import officer_agencies, officers


@dataclass(frozen=True, slots=True)
class OfficerRecord:
    """An officer as the console and the CLI see them: no password hash."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None
    agencies: tuple[str, ...]

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


_COLUMNS = (
    officers.c.id,
    officers.c.username,
    officers.c.display_name,
    officers.c.role,
    officers.c.active,
    officers.c.failed_logins,
    officers.c.locked_until,
    officers.c.created_at,
    officers.c.last_login_at,
)


def _record(row: Any, agencies: Iterable[str]) -> OfficerRecord:
    return OfficerRecord(
        id=int(row.id),
        username=str(row.username),
        display_name=str(row.display_name),
        role=str(row.role),
        active=bool(row.active),
        failed_logins=int(row.failed_logins),
        locked_until=row.locked_until,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        agencies=tuple(sorted(agencies)),
    )


async def _agencies(conn: AsyncConnection, officer_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {officer_id: [] for officer_id in officer_ids}
    if not officer_ids:
        return found
    rows = await conn.execute(
        sa.select(officer_agencies.c.officer_id, officer_agencies.c.agency).where(
            officer_agencies.c.officer_id.in_(officer_ids)
        )
    )
    for officer_id, agency in rows:
        found[int(officer_id)].append(str(agency))
    return found


async def _one(conn: AsyncConnection, where: sa.ColumnElement[bool]) -> OfficerRecord | None:
    row = (await conn.execute(sa.select(*_COLUMNS).where(where))).one_or_none()
    if row is None:
        return None
    return _record(row, (await _agencies(conn, [int(row.id)]))[int(row.id)])


async def insert(
    conn: AsyncConnection,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: str,
    agencies: Iterable[str],
    at: datetime,
) -> OfficerRecord:
    """A new active officer; IntegrityError when the username is taken."""
    officer_id = int(
        await conn.scalar(
            sa.insert(officers)
            .values(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=role,
                active=True,
                failed_logins=0,
                created_at=at,
            )
            .returning(officers.c.id)
        )
        or 0
    )
    await set_agencies(conn, officer_id, agencies)
    record = await by_id(conn, officer_id)
    assert record is not None
    return record


async def by_id(conn: AsyncConnection, officer_id: int) -> OfficerRecord | None:
    return await _one(conn, officers.c.id == officer_id)


async def by_username(conn: AsyncConnection, username: str) -> OfficerRecord | None:
    return await _one(conn, officers.c.username == username)


async def credentials(conn: AsyncConnection, username: str) -> tuple[OfficerRecord, str] | None:
    """The officer and their password hash, for verifying a login and nothing else."""
    record = await by_username(conn, username)
    if record is None:
        return None
    password_hash = await conn.scalar(
        sa.select(officers.c.password_hash).where(officers.c.id == record.id)
    )
    return record, str(password_hash)


async def all_officers(conn: AsyncConnection) -> list[OfficerRecord]:
    rows = list(await conn.execute(sa.select(*_COLUMNS).order_by(officers.c.username)))
    agencies = await _agencies(conn, [int(r.id) for r in rows])
    return [_record(r, agencies[int(r.id)]) for r in rows]


async def set_password(conn: AsyncConnection, officer_id: int, password_hash: str) -> bool:
    result = await conn.execute(
        sa.update(officers).where(officers.c.id == officer_id).values(password_hash=password_hash)
    )
    return bool(result.rowcount == 1)


async def record_login(conn: AsyncConnection, officer_id: int, at: datetime) -> None:
    """A successful login clears the failure count and notes when."""
    await conn.execute(
        sa.update(officers)
        .where(officers.c.id == officer_id)
        .values(failed_logins=0, locked_until=None, last_login_at=at)
    )


async def unlock(conn: AsyncConnection, officer_id: int) -> bool:
    result = await conn.execute(
        sa.update(officers)
        .where(officers.c.id == officer_id)
        .values(failed_logins=0, locked_until=None)
    )
    return bool(result.rowcount == 1)


async def set_agencies(conn: AsyncConnection, officer_id: int, agencies: Iterable[str]) -> None:
    """Replace the officer's agencies with ``agencies``."""
    await conn.execute(
        sa.delete(officer_agencies).where(officer_agencies.c.officer_id == officer_id)
    )
    rows = [{"officer_id": officer_id, "agency": agency} for agency in sorted(set(agencies))]
    if rows:
        await conn.execute(sa.insert(officer_agencies), rows)


async def deactivate(conn: AsyncConnection, officer_id: int) -> bool:
    """Stop the account (its rows stay, for the audit log); False when already inactive."""
    result = await conn.execute(
        sa.update(officers)
        .where(officers.c.id == officer_id, officers.c.active.is_(True))
        .values(active=False)
    )
    return bool(result.rowcount == 1)

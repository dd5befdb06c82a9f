"""Contacts and their identities: one person, many ``(channel, address)`` pairs.

Phone addresses are E.164, so the same number on WhatsApp and SMS finds the same
contact. Callers hold the coordination lock for the address while resolving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.model import utcnow
from hub.store.database import Database
from hub.store.tables import contacts, identities


async def resolve_contact(
    db: Database, conn: AsyncConnection, channel: str, address: str, display_name: str = ""
) -> int:
    """The contact id for this sender, creating contact and identity when new."""
    found = await conn.scalar(
        sa.select(identities.c.contact_id).where(
            identities.c.channel == channel, identities.c.address == address
        )
    )
    if found is not None:
        return int(found)
    contact_id: int | None = None
    if address.startswith("+"):
        linked = await conn.scalar(
            sa.select(identities.c.contact_id)
            .where(identities.c.address == address)
            .order_by(identities.c.id)
            .limit(1)
        )
        contact_id = int(linked) if linked is not None else None
    now = utcnow()
    if contact_id is None:
        contact_id = int(
            await conn.scalar(
                sa.insert(contacts)
                .values(display_name=display_name[:200], created_at=now, updated_at=now)
                .returning(contacts.c.id)
            )
            or 0
        )
    inserted = await conn.scalar(
        db.insert(identities)
        .values(contact_id=contact_id, channel=channel, address=address, created_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(identities.c.id)
    )
    if inserted is None:  # another process won the race; use its contact
        winner = await conn.scalar(
            sa.select(identities.c.contact_id).where(
                identities.c.channel == channel, identities.c.address == address
            )
        )
        return int(winner or contact_id)
    return contact_id


async def new_unlinked_contact(conn: AsyncConnection, display_name: str = "") -> int:
    """A contact of its own for a sender nobody vouched for (email with an unverified
    From): no identity, so it never joins, nor is joined by, the history of the
    address it claims."""
    now = utcnow()
    return int(
        await conn.scalar(
            sa.insert(contacts)
            .values(display_name=display_name[:200], created_at=now, updated_at=now)
            .returning(contacts.c.id)
        )
        or 0
    )


async def touch_identity(conn: AsyncConnection, channel: str, address: str, at: datetime) -> None:
    """Remember when this identity last wrote (WhatsApp's 24-hour window)."""
    await conn.execute(
        sa.update(identities)
        .where(identities.c.channel == channel, identities.c.address == address)
        .values(last_inbound_at=at)
    )


async def last_inbound_at(conn: AsyncConnection, channel: str, address: str) -> datetime | None:
    value: datetime | None = await conn.scalar(
        sa.select(identities.c.last_inbound_at).where(
            identities.c.channel == channel, identities.c.address == address
        )
    )
    return value


async def set_locale(conn: AsyncConnection, contact_id: int, locale: str) -> None:
    await conn.execute(
        sa.update(contacts)
        .where(contacts.c.id == contact_id)
        .values(locale=locale, updated_at=utcnow())
    )


async def contact_locale(conn: AsyncConnection, contact_id: int) -> str | None:
    value = await conn.scalar(sa.select(contacts.c.locale).where(contacts.c.id == contact_id))
    return str(value) if value is not None else None


async def display_name(conn: AsyncConnection, contact_id: int) -> str:
    name = await conn.scalar(sa.select(contacts.c.display_name).where(contacts.c.id == contact_id))
    return str(name or "")


async def address_on(conn: AsyncConnection, contact_id: int, channel: str) -> str:
    """The contact's first address on ``channel`` ("" when none)."""
    address = await conn.scalar(
        sa.select(identities.c.address)
        .where(identities.c.contact_id == contact_id, identities.c.channel == channel)
        .order_by(identities.c.id)
        .limit(1)
    )
    return str(address or "")


@dataclass(frozen=True, slots=True)
class SavedApplicant:
    """The citizen's own applicant, kept with their consent; the NIK as ciphertext."""

    name: str
    nik: str
    saved_at: datetime


async def saved_applicant(conn: AsyncConnection, contact_id: int) -> SavedApplicant | None:
    row = (
        await conn.execute(
            sa.select(
                contacts.c.applicant_name, contacts.c.applicant_nik, contacts.c.applicant_saved_at
            ).where(contacts.c.id == contact_id)
        )
    ).one_or_none()
    if row is None or not row.applicant_name or not row.applicant_nik:
        return None
    return SavedApplicant(str(row.applicant_name), str(row.applicant_nik), row.applicant_saved_at)


async def save_applicant(
    conn: AsyncConnection, contact_id: int, name: str, sealed_nik: str, at: datetime
) -> None:
    """Remember the citizen's own applicant (``sealed_nik``: ciphertext from hub.security.vault)."""
    await conn.execute(
        sa.update(contacts)
        .where(contacts.c.id == contact_id)
        .values(
            applicant_name=name[:200],
            applicant_nik=sealed_nik,
            applicant_saved_at=at,
            updated_at=at,
        )
    )


async def forget_applicant(conn: AsyncConnection, contact_id: int, at: datetime) -> bool:
    """Drop the remembered applicant (consent withdrawn); True when there was one."""
    result = await conn.execute(
        sa.update(contacts)
        .where(contacts.c.id == contact_id, contacts.c.applicant_nik.is_not(None))
        .values(applicant_name=None, applicant_nik=None, applicant_saved_at=None, updated_at=at)
    )
    return bool(result.rowcount == 1)

"""Rows written straight into the store, for tests of figures computed from them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.tables import contacts, conversations, messages


async def contact_with_conversation(
    conn: AsyncConnection, channel: str, address: str, at: datetime
) -> tuple[int, int]:
    """A new contact with one open bot conversation: (contact id, conversation id)."""
    contact = await conn.scalar(
        sa.insert(contacts).values(created_at=at, updated_at=at).returning(contacts.c.id)
    )
    conversation = await conn.scalar(
        sa.insert(conversations)
        .values(
            contact_id=contact,
            status="bot",
            channel=channel,
            address=address,
            locale="id",
            state={},
            created_at=at,
            updated_at=at,
        )
        .returning(conversations.c.id)
    )
    return int(contact or 0), int(conversation or 0)


async def messages_at(
    conn: AsyncConnection,
    conversation_id: int,
    sent: Iterable[tuple[datetime, str]],
    *,
    direction: str = "inbound",
    prefix: str = "seed",
) -> None:
    """One message per (time, channel), inbound from the citizen unless told otherwise."""
    for n, (when, channel) in enumerate(sent):
        await conn.execute(
            sa.insert(messages).values(
                conversation_id=conversation_id,
                direction=direction,
                channel=channel,
                provider_message_id=f"{prefix}-{n}" if direction == "inbound" else None,
                author="citizen" if direction == "inbound" else "bot",
                text="halo",
                attachments=[],
                created_at=when,
                updated_at=when,
            )
        )

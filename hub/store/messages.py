"""Messages in both directions; inbound ones double as the pipeline's work queue.

Every text is masked (:mod:`hub.pii`) before it is written: a citizen's words, the
provider's raw payload (every string in it), the bot's and officers' replies,
captions and errors. A NIK a flow needs travels apart, encrypted: the inbound pipeline
passes it as ``sealed_niks``, kept with the pending message until it is handled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub import pii
from hub.model import (
    DeliveryStatus,
    DeliveryUpdate,
    Direction,
    InboundMessage,
    ProcessingState,
    utcnow,
)
from hub.store.database import Database
from hub.store.records import InboundRecord
from hub.store.tables import messages

MAX_RAW_BYTES = 64 * 1024
SEALED_NIKS = "sealed_niks"
"""``entities`` key of a pending message: the NIKs it held, as ciphertext."""


def _raw(msg: InboundMessage) -> dict[str, Any] | None:
    raw = dict(msg.raw)
    if not raw:
        return None
    try:
        if len(json.dumps(raw, default=str)) > MAX_RAW_BYTES:
            return {"truncated": True}
        return pii.mask_json(json.loads(json.dumps(raw, default=str)))  # type: ignore[no-any-return]
    except (TypeError, ValueError):
        return {"unserialisable": True}


def masked_attachments(attachments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Attachments with their words (caption, file name) masked; the URL stays usable."""
    return [
        {
            **a,
            **{k: pii.mask(str(a[k])) for k in ("caption", "filename") if a.get(k)},
        }
        for a in attachments
    ]


async def insert_inbound(
    db: Database,
    conn: AsyncConnection,
    conversation_id: int,
    msg: InboundMessage,
    sealed_niks: Sequence[str] = (),
) -> int | None:
    """Persist an inbound message, masked; ``None`` when its dedupe key is already stored.

    ``sealed_niks`` are the NIKs the text held, encrypted by the caller: the only form
    in which they reach the dialogs (``InboundRecord.sealed_niks``)."""
    now = utcnow()
    new_id = await conn.scalar(
        db.insert(messages)
        .values(
            conversation_id=conversation_id,
            direction=Direction.INBOUND.value,
            channel=msg.channel,
            provider_message_id=msg.provider_message_id,
            author="citizen",
            text=pii.mask(msg.text),
            attachments=masked_attachments([a.to_dict() for a in msg.attachments]),
            choice_payload=msg.choice_payload,
            location=(
                {
                    "latitude": msg.location.latitude,
                    "longitude": msg.location.longitude,
                    "name": msg.location.name,
                }
                if msg.location
                else None
            ),
            raw=_raw(msg),
            entities={SEALED_NIKS: list(sealed_niks)} if sealed_niks else None,
            processing=ProcessingState.PENDING.value,
            created_at=msg.received_at,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["channel", "provider_message_id"],
            index_where=sa.text("direction = 'inbound'"),
        )
        .returning(messages.c.id)
    )
    return int(new_id) if new_id is not None else None


async def is_stored(conn: AsyncConnection, channel: str, provider_message_id: str) -> bool:
    found = await conn.scalar(
        sa.select(messages.c.id).where(
            messages.c.direction == Direction.INBOUND.value,
            messages.c.channel == channel,
            messages.c.provider_message_id == provider_message_id,
        )
    )
    return found is not None


def _inbound(row: sa.Row[Any]) -> InboundRecord:
    entities = row.entities if isinstance(row.entities, dict) else {}
    sealed = entities.get(SEALED_NIKS) if row.processing == ProcessingState.PENDING.value else None
    return InboundRecord(
        id=int(row.id),
        conversation_id=int(row.conversation_id),
        channel=str(row.channel),
        provider_message_id=str(row.provider_message_id),
        text=str(row.text or ""),
        choice_payload=row.choice_payload,
        attachments=list(row.attachments or []),
        created_at=row.created_at,
        sealed_niks=tuple(str(s) for s in sealed) if isinstance(sealed, list) else (),
    )


async def pending_inbound(conn: AsyncConnection, conversation_id: int) -> list[InboundRecord]:
    """Unhandled inbound messages of one conversation, oldest first."""
    rows = await conn.execute(
        sa.select(messages)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.processing == ProcessingState.PENDING.value,
        )
        .order_by(messages.c.id)
    )
    return [_inbound(row) for row in rows]


async def conversations_with_pending(
    conn: AsyncConnection, received_before: datetime | None = None
) -> list[int]:
    """Conversations with inbound messages left unhandled (by a crash or an outage)."""
    query = sa.select(messages.c.conversation_id).where(
        messages.c.processing == ProcessingState.PENDING.value
    )
    if received_before is not None:
        query = query.where(messages.c.created_at < received_before)
    rows = await conn.execute(
        query.group_by(messages.c.conversation_id).order_by(sa.func.min(messages.c.id))
    )
    return [int(r[0]) for r in rows]


async def mark_processed(
    conn: AsyncConnection,
    message_id: int,
    state: ProcessingState,
    *,
    intent: str | None = None,
    entities: dict[str, Any] | None = None,
    error: str | None = None,
    text: str | None = None,
) -> None:
    """Record the outcome; ``text`` replaces the stored text. ``entities`` replaces the
    NIKs kept (encrypted) with the pending message: they are needed no longer."""
    values: dict[str, Any] = {
        "processing": state.value,
        "intent": intent,
        "entities": pii.mask_json(entities),
        "processing_error": None if error is None else pii.mask(error),
        "updated_at": utcnow(),
    }
    if text is not None:
        values["text"] = pii.mask(text)
    await conn.execute(sa.update(messages).where(messages.c.id == message_id).values(**values))


async def insert_outbound(
    conn: AsyncConnection,
    *,
    conversation_id: int,
    channel: str,
    author: str,
    text: str,
    attachments: list[dict[str, Any]],
    reply_to_id: int | None,
) -> int:
    now = utcnow()
    new_id = await conn.scalar(
        sa.insert(messages)
        .values(
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND.value,
            channel=channel,
            author=author,
            text=pii.mask(text),
            attachments=masked_attachments(attachments),
            delivery_status=DeliveryStatus.QUEUED.value,
            reply_to_id=reply_to_id,
            created_at=now,
            updated_at=now,
        )
        .returning(messages.c.id)
    )
    return int(new_id or 0)


async def set_delivery(
    conn: AsyncConnection,
    message_id: int,
    status: DeliveryStatus,
    *,
    provider_message_id: str | None = None,
    error: str | None = None,
    segments: int | None = None,
) -> None:
    values: dict[str, Any] = {"delivery_status": status.value, "updated_at": utcnow()}
    if provider_message_id:
        values["provider_message_id"] = provider_message_id
    if segments is not None:
        values["segments"] = segments
    if error is not None:
        values["delivery_error"] = pii.mask(error)
    await conn.execute(sa.update(messages).where(messages.c.id == message_id).values(**values))


_PROGRESS = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 2,
}


async def apply_delivery_update(conn: AsyncConnection, update: DeliveryUpdate) -> bool:
    """Record a provider's status callback; False when no such outbound message exists.

    Callbacks arrive out of order and more than once, so a status never moves
    backwards ("sent" after "delivered" is ignored) and repeating one changes nothing.
    """
    row = (
        await conn.execute(
            sa.select(messages.c.id, messages.c.delivery_status).where(
                messages.c.direction == Direction.OUTBOUND.value,
                messages.c.channel == update.channel,
                messages.c.provider_message_id == update.provider_message_id,
            )
        )
    ).first()
    if row is None:
        return False
    current = DeliveryStatus(row.delivery_status or DeliveryStatus.QUEUED.value)
    reached = current in (DeliveryStatus.DELIVERED, DeliveryStatus.READ)
    if _PROGRESS[update.status] < _PROGRESS[current] or (
        reached and update.status is DeliveryStatus.FAILED
    ):
        return True
    error = None
    if update.status is DeliveryStatus.FAILED:
        error = " ".join(p for p in (update.error_code, update.error_message) if p) or "failed"
    values: dict[str, Any] = {"delivery_status": update.status.value, "updated_at": utcnow()}
    if error is not None:
        values["delivery_error"] = pii.mask(error)[:500]
    await conn.execute(sa.update(messages).where(messages.c.id == row.id).values(**values))
    return True

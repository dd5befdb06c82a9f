"""trust and privacy: API token scopes, a ticket reporter's encrypted NIK, purged conversations

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:50:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        # NULL: a token made before scopes existed (docs/security.md: its documented default).
        batch_op.add_column(sa.Column("scopes", _json(), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        # Fernet ciphertext of the reporter's NIK; never the NIK itself.
        batch_op.add_column(sa.Column("reporter_nik", sa.Text(), nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        # Set when retention removed the conversation's texts, payloads and attachments.
        batch_op.add_column(sa.Column("purged_at", hub.store.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("reporter_nik")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")

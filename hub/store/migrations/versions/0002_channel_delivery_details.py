"""channel delivery details

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:03:25.281417
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_inbound_at", hub.store.tables.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "location",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_messages_provider_id", ["channel", "provider_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_provider_id")
        batch_op.drop_column("segments")
        batch_op.drop_column("location")

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_column("last_inbound_at")

"""api tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:07:21.711342
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", hub.store.tables.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", hub.store.tables.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", hub.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")

"""booking reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_reminders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=32), nullable=False),
        sa.Column("due_at", hub.store.tables.UTCDateTime(), nullable=False),
        sa.Column("sent_at", hub.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_reminders_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_reminders")),
        sa.UniqueConstraint(
            "booking_id",
            "kind",
            "day",
            "session",
            name=op.f("uq_booking_reminders_booking_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("booking_reminders")

"""queue bookings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:50:59.856508
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_slots",
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "taken <= capacity", name=op.f("ck_booking_slots_taken_within_capacity")
        ),
        sa.CheckConstraint("taken >= 0", name=op.f("ck_booking_slots_taken_not_negative")),
        sa.PrimaryKeyConstraint("service_id", "day", "session", name=op.f("pk_booking_slots")),
    )
    op.create_table(
        "queue_counters",
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("service_id", "day", name=op.f("pk_queue_counters")),
    )
    op.create_table(
        "bookings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=True),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=32), nullable=False),
        sa.Column("queue_number", sa.Integer(), nullable=False),
        sa.Column("queue_label", sa.String(length=16), nullable=False),
        sa.Column("counter", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", hub.store.tables.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hub.store.tables.UTCDateTime(), nullable=False),
        sa.Column("checked_in_at", hub.store.tables.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", hub.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_bookings_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_bookings_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_contact", ["contact_id", "status"], unique=False)
        batch_op.create_index(
            "ix_bookings_day_service", ["day", "service_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_bookings_active_per_day",
            ["contact_id", "service_id", "day"],
            unique=True,
            sqlite_where=sa.text("status IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("status IN ('booked', 'checked_in')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_active_per_day",
            sqlite_where=sa.text("status IN ('booked', 'checked_in')"),
            postgresql_where=sa.text("status IN ('booked', 'checked_in')"),
        )
        batch_op.drop_index("ix_bookings_day_service")
        batch_op.drop_index("ix_bookings_contact")

    op.drop_table("bookings")
    op.drop_table("queue_counters")
    op.drop_table("booking_slots")

"""booking applicant: who comes to the counter (name, encrypted NIK), remembered per contact

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.store.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_name", sa.String(200), nullable=True))
        # Fernet ciphertext of the applicant's NIK; never the NIK itself.
        batch_op.add_column(sa.Column("applicant_nik", sa.Text(), nullable=True))
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        # The citizen's own applicant, kept only after they agreed ("simpan").
        batch_op.add_column(sa.Column("applicant_name", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("applicant_nik", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("applicant_saved_at", hub.store.tables.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("applicant_saved_at")
        batch_op.drop_column("applicant_nik")
        batch_op.drop_column("applicant_name")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("applicant_nik")
        batch_op.drop_column("applicant_name")

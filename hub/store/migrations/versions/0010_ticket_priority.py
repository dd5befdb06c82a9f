"""ticket priority and object: bribery reports first, what a complaint is about

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        # high (bribery: shorter deadlines) or normal; existing tickets are normal.
        batch_op.add_column(
            sa.Column("priority", sa.String(8), nullable=False, server_default="normal")
        )
        # facility, counter, officer or service; NULL when the words named none.
        batch_op.add_column(sa.Column("object", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("object")
        batch_op.drop_column("priority")

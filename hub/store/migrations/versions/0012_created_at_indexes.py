"""indexes on created_at: the public transparency figures read a period at a time

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = (
    ("messages", "ix_messages_created_at"),
    ("conversations", "ix_conversations_created_at"),
    ("tickets", "ix_tickets_created_at"),
)


def upgrade() -> None:
    for table, name in INDEXES:
        op.create_index(name, table, ["created_at"], unique=False)


def downgrade() -> None:
    for table, name in reversed(INDEXES):
        op.drop_index(name, table_name=table)

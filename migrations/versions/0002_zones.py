"""Readers follow their browser's zone unless they choose one; incidents get a reference zone
and an index for listing by last update.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("timezone", existing_type=sa.String(length=64), nullable=True)
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.add_column(sa.Column("reference_timezone", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_incidents_updated_at_id", ["updated_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_index("ix_incidents_updated_at_id")
        batch_op.drop_column("reference_timezone")
    op.execute("UPDATE users SET timezone = 'UTC' WHERE timezone IS NULL")
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("timezone", existing_type=sa.String(length=64), nullable=False)

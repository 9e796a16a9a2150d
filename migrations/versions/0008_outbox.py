"""The outbox: effects outside the database, written with the changes that cause them, for workers to apply.

Two indexes: (state, available_at, id) serves the workers' claim (pending rows due now, oldest
due first), and (state, id) the oldest pending row that /healthz reports, the parked rows on the
admin page, the counts and the pruning of applied rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("handler", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_state_available_at", "outbox", ["state", "available_at", "id"], unique=False)
    op.create_index("ix_outbox_state_id", "outbox", ["state", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_state_id", table_name="outbox")
    op.drop_index("ix_outbox_state_available_at", table_name="outbox")
    op.drop_table("outbox")

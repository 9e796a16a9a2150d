"""The incident list filtered by status or severity reads in its own order from an index.

(status, started_at, id) and (severity, started_at, id) replace the single-column indexes on
status and severity, which they begin with: a filtered list no longer sorts every match, and a
next page (or a CSV export, page after page) seeks straight to its cursor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.create_index("ix_incidents_status_started_at_id", ["status", "started_at", "id"], unique=False)
        batch_op.create_index("ix_incidents_severity_started_at_id", ["severity", "started_at", "id"], unique=False)
        batch_op.drop_index("ix_incidents_status")
        batch_op.drop_index("ix_incidents_severity")


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.create_index("ix_incidents_severity", ["severity"], unique=False)
        batch_op.create_index("ix_incidents_status", ["status"], unique=False)
        batch_op.drop_index("ix_incidents_severity_started_at_id")
        batch_op.drop_index("ix_incidents_status_started_at_id")

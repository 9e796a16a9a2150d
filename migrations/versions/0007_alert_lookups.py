"""Indexes for the look-ups a pager delivery makes, so that they stay quick on a big or new table.

- The unique key of alert occurrences leads with alert_key: a delivery looks its group's alerts
  up with alert_key = ANY(...). With source leading, PostgreSQL, before it had statistics on a
  new table, scanned every occurrence of the source instead.
- (incident_id, dedup_key) replaces (incident_id): finding the open incident already fed by a
  group's dedup key probes each open incident once, instead of reading every occurrence it has
  (5.7 ms per delivery on SQLite after 20,000 deliveries, and growing).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_occurrences") as batch_op:
        batch_op.drop_constraint("uq_alert_occurrences_source_alert_key", type_="unique")
        batch_op.create_unique_constraint("uq_alert_occurrences_alert_key", ["alert_key", "source", "occurrence_key"])
        batch_op.drop_index("ix_alert_occurrences_incident_id")
        batch_op.create_index("ix_alert_occurrences_incident_id_dedup_key", ["incident_id", "dedup_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_occurrences") as batch_op:
        batch_op.drop_index("ix_alert_occurrences_incident_id_dedup_key")
        batch_op.create_index("ix_alert_occurrences_incident_id", ["incident_id"], unique=False)
        batch_op.drop_constraint("uq_alert_occurrences_alert_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_alert_occurrences_source_alert_key", ["source", "alert_key", "occurrence_key"]
        )

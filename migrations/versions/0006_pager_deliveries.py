"""Pager and alert deliveries, kept raw, and the alert occurrences they report.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SOURCES = ("web", "api", "slack", "pagerduty", "opsgenie", "alertmanager", "grafana", "import")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Enum(*SOURCES, name="source", native_enum=False, length=32), nullable=False),
        sa.Column("delivery_key", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum("applied", "ignored", "undecipherable", name="deliveryoutcome", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("source", "delivery_key", name="uq_deliveries_source_delivery_key"),
    )
    op.create_index("ix_deliveries_outcome_id", "deliveries", ["outcome", "id"], unique=False)
    op.create_table(
        "alert_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Enum(*SOURCES, name="source", native_enum=False, length=32), nullable=False),
        sa.Column("alert_key", sa.String(length=255), nullable=False),
        sa.Column("occurrence_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_alert_occurrences_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_occurrences")),
        sa.UniqueConstraint("source", "alert_key", "occurrence_key", name="uq_alert_occurrences_source_alert_key"),
    )
    op.create_index("ix_alert_occurrences_dedup_key", "alert_occurrences", ["dedup_key"], unique=False)
    op.create_index("ix_alert_occurrences_incident_id", "alert_occurrences", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_occurrences_incident_id", table_name="alert_occurrences")
    op.drop_index("ix_alert_occurrences_dedup_key", table_name="alert_occurrences")
    op.drop_table("alert_occurrences")
    op.drop_index("ix_deliveries_outcome_id", table_name="deliveries")
    op.drop_table("deliveries")

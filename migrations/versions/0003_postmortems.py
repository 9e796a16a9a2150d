"""Blameless post-mortems: sections, contributing factors, action items, the agreed timeline and history

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:37:58.184580
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("template_key", sa.String(length=100), nullable=False),
        sa.Column("template_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "in_review", "published", name="reviewstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agreed_severity", sa.String(length=32), nullable=True),
        sa.Column("agreed_downtime_seconds", sa.Integer(), nullable=True),
        sa.Column("agreed_time_to_detect_seconds", sa.Integer(), nullable=True),
        sa.Column("agreed_time_to_resolve_seconds", sa.Integer(), nullable=True),
        sa.Column("acknowledged_findings", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_postmortems_created_by_id_users")),
        sa.ForeignKeyConstraint(["facilitator_id"], ["users.id"], name=op.f("fk_postmortems_facilitator_id_users")),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_postmortems_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortems")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_postmortems_incident_id")),
    )
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortems_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_postmortems_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_postmortems_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner_team", sa.String(length=100), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "priority",
            sa.Enum("countermeasure", "idea", name="actionpriority", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum("prevent", "detect", "mitigate", "process", name="actiontype", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "in_progress", "done", "wont_do", name="actionstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("wont_do_reason", sa.Text(), nullable=True),
        sa.Column("ticket_url", sa.String(length=2000), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_action_items_created_by_id_users")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_action_items_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_action_items_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index("ix_action_items_owner_status_due", ["owner_id", "status", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_items_owner_team"), ["owner_team"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_items_postmortem_id"), ["postmortem_id"], unique=False)
        batch_op.create_index("ix_action_items_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "agreed_timeline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["timeline_entries.id"],
            name=op.f("fk_agreed_timeline_entries_entry_id_timeline_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_agreed_timeline_entries_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreed_timeline_entries")),
        sa.UniqueConstraint("postmortem_id", "entry_id", name="uq_agreed_timeline_entries_entry"),
    )
    with op.batch_alter_table("agreed_timeline_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreed_timeline_entries_postmortem_id"), ["postmortem_id"], unique=False)

    op.create_table(
        "contributing_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_contributing_factors_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["contributing_factors.id"],
            name=op.f("fk_contributing_factors_parent_id_contributing_factors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_contributing_factors_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributing_factors")),
    )
    with op.batch_alter_table("contributing_factors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contributing_factors_postmortem_id"), ["postmortem_id"], unique=False)

    op.create_table(
        "postmortem_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_postmortem_changes_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_postmortem_changes_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortem_changes")),
    )
    with op.batch_alter_table("postmortem_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortem_changes_postmortem_id"), ["postmortem_id"], unique=False)

    op.create_table(
        "postmortem_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortems.id"],
            name=op.f("fk_postmortem_sections_postmortem_id_postmortems"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_postmortem_sections_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortem_sections")),
        sa.UniqueConstraint("postmortem_id", "key", name="uq_postmortem_sections_key"),
    )
    with op.batch_alter_table("postmortem_sections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortem_sections_postmortem_id"), ["postmortem_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("postmortem_sections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortem_sections_postmortem_id"))

    op.drop_table("postmortem_sections")
    with op.batch_alter_table("postmortem_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortem_changes_postmortem_id"))

    op.drop_table("postmortem_changes")
    with op.batch_alter_table("contributing_factors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contributing_factors_postmortem_id"))

    op.drop_table("contributing_factors")
    with op.batch_alter_table("agreed_timeline_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreed_timeline_entries_postmortem_id"))

    op.drop_table("agreed_timeline_entries")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index("ix_action_items_status_due")
        batch_op.drop_index(batch_op.f("ix_action_items_postmortem_id"))
        batch_op.drop_index(batch_op.f("ix_action_items_owner_team"))
        batch_op.drop_index("ix_action_items_owner_status_due")

    op.drop_table("action_items")
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortems_updated_at"))
        batch_op.drop_index(batch_op.f("ix_postmortems_status"))
        batch_op.drop_index(batch_op.f("ix_postmortems_published_at"))

    op.drop_table("postmortems")

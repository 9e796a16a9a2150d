"""One holder of each single-holder role (commander, scribe, communications lead) per incident.

Two people taking command of an incident nobody commands, at the same moment, could both get it:
the check and the insert were separate. This unique partial index refuses the second.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHERE = "role IN ('commander', 'scribe', 'communications_lead')"


def upgrade() -> None:
    op.create_index(
        "uq_role_assignments_single_holder",
        "role_assignments",
        ["incident_id", "role"],
        unique=True,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index("uq_role_assignments_single_holder", table_name="role_assignments")

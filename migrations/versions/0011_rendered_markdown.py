"""The sanitized HTML of every Markdown text, kept beside it: rendered once when saved, not on each view.

A page rendered its incident's summary, every timeline entry and every post-mortem section again on
each view. The texts already stored are rendered here, in batches, with the renderer of this release.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from incidents.stored_markdown import TEXTS, render_again

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, _text, html in TEXTS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(html, sa.Text(), nullable=True))
    render_again(op.get_bind())


def downgrade() -> None:
    for table, _text, html in TEXTS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(html)

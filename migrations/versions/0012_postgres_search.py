"""The PostgreSQL full-text engine's tables (KINTSUGI_SEARCH_BACKEND=postgres), on PostgreSQL only.

A SQLite database has no use for them: its library is searched with the Whoosh index on disk. They
start empty; `flask search reindex` fills them once the engine is chosen.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from search import postgres_tables

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        postgres_tables.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        postgres_tables.drop(bind)

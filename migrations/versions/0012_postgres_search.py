"""The PostgreSQL full-text engine's tables (KINTSUGI_SEARCH_BACKEND=postgres), on PostgreSQL only.

A SQLite database has no use for them: its library is searched with the Whoosh index on disk. They
start empty; `flask search reindex` fills them once the engine is chosen. Written out here rather
than taken from search/postgres_tables.py, so that this revision stays what it was when the tables
change.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    text_array = ARRAY(sa.Text())
    op.create_table(
        "search_documents",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("postmortem_id", sa.BigInteger()),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("title", "summary", "impact", "factors", "lessons", "countermeasures", "body")
        ),
        *(sa.Column(name, text_array, nullable=False) for name in ("services", "teams", "tags", "categories")),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("year", sa.Text(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("reader_ids", ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("source_id", sa.Text()),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("lexemes", TSVECTOR(), nullable=False),
        sa.Column("words", text_array, nullable=False),
        sa.Column("facets", text_array, nullable=False),
    )
    op.create_index("ix_search_documents_lexemes", "search_documents", ["lexemes"], postgresql_using="gin")
    op.create_index("ix_search_documents_date", "search_documents", ["date"])
    op.create_table(
        "search_lexemes",
        sa.Column("lexeme", sa.Text(), primary_key=True),
        sa.Column("documents", sa.Integer(), nullable=False),
    )
    op.execute(
        "CREATE INDEX ix_search_lexemes_words ON search_lexemes "
        "USING gin (substr(lexeme, 7) gin_trgm_ops) WHERE lexeme LIKE 'words/%'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("search_lexemes")
    op.drop_table("search_documents")

"""The tables of the PostgreSQL full-text engine (KINTSUGI_SEARCH_BACKEND=postgres), in a metadata of
their own: they exist only on PostgreSQL (migration 0012), beside the domain's tables, never in them.

`search_documents` holds one row a document: what a hit shows, the facets and access columns, and a
`tsvector` of its stems, weighted by the field they are in, and its keyword values tagged with their
facet ("service/checkout"), indexed with GIN. `search_lexemes` counts the documents holding each stem
("stem/…", for ranking by rarity) and each word as written ("words/…", the dictionary of "did you
mean", trigram-indexed).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.engine import Connection

metadata = MetaData()

documents = Table(
    "search_documents",
    metadata,
    Column("key", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("incident_id", BigInteger, nullable=False),
    Column("postmortem_id", BigInteger),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("impact", Text, nullable=False),
    Column("factors", Text, nullable=False),
    Column("lessons", Text, nullable=False),
    Column("countermeasures", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("services", ARRAY(Text), nullable=False),
    Column("teams", ARRAY(Text), nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("categories", ARRAY(Text), nullable=False),
    Column("severity", Text, nullable=False),
    Column("year", Text, nullable=False),
    Column("date", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("restricted", Boolean, nullable=False),
    Column("reader_ids", ARRAY(BigInteger), nullable=False),
    Column("source_id", Text),
    Column("digest", Text, nullable=False),
    Column("lexemes", TSVECTOR, nullable=False),
    # Its words as written, to take them out of the counts when it changes.
    Column("words", ARRAY(Text), nullable=False),
    # Every facet value as "facet/value" ("service/checkout", "year/2026"): counted in one pass.
    Column("facets", ARRAY(Text), nullable=False),
    Index("ix_search_documents_lexemes", "lexemes", postgresql_using="gin"),
    Index("ix_search_documents_date", "date"),
)

lexemes = Table(
    "search_lexemes",
    metadata,
    Column("lexeme", Text, primary_key=True),
    Column("documents", Integer, nullable=False),
    # Words as written are looked up by trigrams (TRIGRAM_INDEX), which a Table cannot say.
)

# "Did you mean" finds near words by their trigrams: pg_trgm is a trusted extension, which a
# database's owner may create.
EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
TRIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_search_lexemes_words ON search_lexemes "
    "USING gin (substr(lexeme, 7) gin_trgm_ops) WHERE lexeme LIKE 'words/%'"
)


def create(connection: Connection) -> None:
    """Create the engine's tables and indexes where they are missing (PostgreSQL only)."""
    connection.execute(text(EXTENSION))
    metadata.create_all(connection)
    connection.execute(text(TRIGRAM_INDEX))

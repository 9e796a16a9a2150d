"""Documents as rows of `search_documents`, and the counts of the words they hold in `search_lexemes`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Text

from .documents import SearchDocument
from .postgres_text import STEM, WORDS, keyword_values, tagged, vector_of


def row_of(document: SearchDocument) -> tuple[dict[str, Any], Counter[str]]:
    """A document as a row, and the lexeme counts it adds."""
    vector, stems, words = vector_of(document)
    keywords = keyword_values(document)
    row = {
        "key": document.key,
        "type": document.type,
        "incident_id": document.incident_id,
        "postmortem_id": document.postmortem_id,
        "title": _plain(document.title),
        "summary": _plain(document.summary),
        "impact": _plain(document.impact),
        "factors": _plain(document.factors),
        "lessons": _plain(document.lessons),
        "countermeasures": _plain(document.countermeasures),
        "body": _plain(document.body),
        "services": [_plain(v) for v in keywords["service"]],
        "teams": [_plain(v) for v in keywords["team"]],
        "tags": [_plain(v) for v in keywords["tag"]],
        "categories": [_plain(v) for v in keywords["category"]],
        "severity": _plain(document.severity),
        "year": str(document.year),
        "date": document.date,
        "published_at": document.published_at,
        "restricted": document.restricted,
        "reader_ids": list(document.reader_ids),
        "source_id": _plain(document.source_id) if document.source_id is not None else None,
        "digest": document.digest,
        "lexemes": vector,
        "words": sorted(words),
        "facets": [f"{name}/{_plain(value)}" for name, values in keywords.items() for value in values if value],
    }
    counted = Counter(tagged(STEM, s) for s in stems)
    counted.update(tagged(WORDS, w) for w in words)
    return row, counted


def _plain(value: str) -> str:
    """PostgreSQL's text holds no NUL character."""
    return value.replace("\x00", "")


def counted_in(lexemes: Sequence[str], words: Sequence[str]) -> Counter[str]:
    """The lexeme counts a stored document added: its stems (lexemes not tagged with a facet) and its
    words as written."""
    stems = {lexeme for lexeme in lexemes if "/" not in lexeme}
    counted = Counter(tagged(STEM, s) for s in stems)
    counted.update(tagged(WORDS, w) for w in words)
    return counted


TEXT_ARRAYS = ("services", "teams", "tags", "categories", "words", "facets")
INSERT = """
    INSERT INTO search_documents (key, type, incident_id, postmortem_id, title, summary, impact, factors, lessons,
        countermeasures, body, services, teams, tags, categories, severity, year, date, published_at, restricted,
        reader_ids, source_id, digest, lexemes, words, facets)
    VALUES (:key, :type, :incident_id, :postmortem_id, :title, :summary, :impact, :factors, :lessons,
        :countermeasures, :body, :services, :teams, :tags, :categories, :severity, :year, :date, :published_at,
        :restricted, :reader_ids, :source_id, :digest, CAST(:lexemes AS tsvector), :words, :facets)
"""
REPLACING = """
    ON CONFLICT (key) DO UPDATE SET type = EXCLUDED.type, incident_id = EXCLUDED.incident_id,
        postmortem_id = EXCLUDED.postmortem_id, title = EXCLUDED.title, summary = EXCLUDED.summary,
        impact = EXCLUDED.impact, factors = EXCLUDED.factors, lessons = EXCLUDED.lessons,
        countermeasures = EXCLUDED.countermeasures, body = EXCLUDED.body, services = EXCLUDED.services,
        teams = EXCLUDED.teams, tags = EXCLUDED.tags, categories = EXCLUDED.categories,
        severity = EXCLUDED.severity, year = EXCLUDED.year, date = EXCLUDED.date,
        published_at = EXCLUDED.published_at, restricted = EXCLUDED.restricted, reader_ids = EXCLUDED.reader_ids,
        source_id = EXCLUDED.source_id, digest = EXCLUDED.digest, lexemes = EXCLUDED.lexemes,
        words = EXCLUDED.words, facets = EXCLUDED.facets
"""


def insert_rows(connection: Connection, rows: list[dict[str, Any]], *, replace_existing: bool) -> None:
    if not rows:
        return
    statement = text(INSERT + (REPLACING if replace_existing else "")).bindparams(
        *(
            bindparam(name, type_=ARRAY(Text))
            for name in ("services", "teams", "tags", "categories", "words", "facets")
        ),
        bindparam("reader_ids", type_=ARRAY(BigInteger)),
    )
    connection.execute(statement, rows)


def add_counts(connection: Connection, counts: Counter[str]) -> None:
    """Add these lexeme counts (in lexeme order, so that two writers never wait on each other in a cycle)."""
    changed = [{"lexeme": lexeme, "documents": n} for lexeme, n in sorted(counts.items()) if n]
    for start in range(0, len(changed), 5_000):
        connection.execute(
            text(
                "INSERT INTO search_lexemes (lexeme, documents) VALUES (:lexeme, :documents) "
                "ON CONFLICT (lexeme) DO UPDATE SET documents = search_lexemes.documents + EXCLUDED.documents"
            ),
            changed[start : start + 5_000],
        )

"""What every search engine answers, whichever it is (Whoosh embedded, PostgreSQL full text shared).

The request and the answer are plain values; an engine takes a `Reader` (who asks) and filters what
that reader may not see inside the engine, so that totals, facet counts and suggestions never count
a restricted incident for someone outside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .documents import SearchDocument

# Facets by their request parameter, in the order a page shows them.
FACETS = ("type", "service", "team", "severity", "category", "tag", "year")
LIMIT_MAX = 50
PAGE_MAX = 200
# Values of each facet an answer counts, most frequent first: a page of results shows this many; a
# page listing every value of one facet (the library's) asks for up to FACET_VALUES_MAX.
FACET_VALUES = 20
FACET_VALUES_MAX = 1000


class IndexOutdated(RuntimeError):
    """The index was written by an older version of Kintsugi, with other fields: it must be rebuilt
    from the database (the outbox worker does so at the next change; `flask search reindex` at once)."""


@dataclass(frozen=True)
class Reader:
    """Who is searching: admins see everything, others open incidents and those they take part in."""

    user_id: int
    is_admin: bool


@dataclass(frozen=True)
class SearchRequest:
    """A search as asked: the words, the facet filters (facet -> values, all must hold), sort, page, and
    how many values of each facet to count."""

    q: str
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 20
    page: int = 1
    facet_values: int = FACET_VALUES


@dataclass(frozen=True)
class Hit:
    """One result: which incident (or post-mortem), how well it matched, and where its words are."""

    type: str
    incident_id: int
    postmortem_id: int | None
    title: str
    score: float
    highlights: tuple[str, ...]
    published_at: datetime | None
    services: tuple[str, ...]
    severity: str
    source_id: str | None
    date: datetime


@dataclass(frozen=True)
class SearchResults:
    """A page of hits, the total, facet counts (facet -> [(value, count)], the request's facet_values most
    frequent, ties in the order of the values) and a suggested query."""

    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, list[tuple[str, int]]]
    suggestion: str | None = None
    # The query was read as plain words (the parser could not read it), or matched only fuzzily.
    read_as_words: bool = False
    fuzzy: bool = False


class Engine(Protocol):
    """A search engine behind the library: one writer (the outbox worker), many readers."""

    def write(self, documents: Sequence[SearchDocument], removed_keys: Sequence[str]) -> None:
        """Add or replace these documents and remove those keys, in one commit."""

    def search(self, request: SearchRequest, reader: Reader) -> SearchResults:
        """A page of what the reader may see that matches."""

    def similar(
        self, text: str, services: Sequence[str], reader: Reader, *, exclude_key: str | None, limit: int
    ) -> list[Hit]:
        """Published post-mortems most like this text (and these services), best first."""

    def digests(self) -> dict[str, str]:
        """Every document's key and digest, to find what is missing or stale."""

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Build a new index from these documents aside, then put it in place of the old; how many."""

"""Searching with PostgreSQL's full text (KINTSUGI_SEARCH_BACKEND=postgres): the engine for a scaled
deployment, where every host shares one database and so one index.

The documents live in `search_documents` (search/postgres_tables.py) with a weighted tsvector under a
GIN index; a query is read as the Whoosh engine reads it (the same parser, stems and synonyms) and
written as a tsquery. Ranking: for each word asked, ts_rank over the fields it may match (weighted
A to D by field), times how rare the word is in the library (BM25's idf, from `search_lexemes`). In a
large library a plain query's common words only rank what its rarer words found (search/narrowing.py),
so that "the checkout service is slow" does not count, facet and rank half the library. Writes take
one advisory lock: one writer at a time, whichever host it runs on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import nh3
from sqlalchemy import Connection, Engine, text
from whoosh import query

from .documents import SearchDocument
from .engine import FACETS, Hit, Reader, SearchRequest, SearchResults
from .narrowing import narrowed
from .postgres_rows import add_counts, counted_in, insert_rows, row_of
from .postgres_text import (
    DOCUMENTS,
    RANK_WEIGHTS,
    WORDS,
    query_terms,
    quoted,
    ranked_groups,
    tsquery_of,
)
from .postgres_words import document_count, frequencies, known_words, near_words
from .query import SPELLING_WORD_MAX, Synonyms, clean, is_expert, parser, with_synonyms
from .reading import (
    HIGHLIGHT_FIELDS,
    HIGHLIGHTS_SHOWN,
    WORD,
    corrections,
    parsed,
    telling_words,
)
from .whoosh_index import schema

# The advisory lock every write takes (an arbitrary number, the same on every host).
WRITE_LOCK = 0x6B696E7473
WRITE_BATCH = 200
COORDINATION = 0.1
# Of more matches than this, those scored word by word (the best for all the words at once).
SHORTLIST = 300
# ts_rank's normalization: 1 divides a document's rank by 1 + the logarithm of its length.
LENGTH_NORMALIZATION = 1
SIMILAR_FIELDS = ("title", "summary", "factors", "impact", "body", "alerts")
ARRAY_COLUMNS = {"service": "services", "team": "teams", "tag": "tags", "category": "categories"}
VALUE_COLUMNS = {"severity": "severity", "year": "year", "type": "type"}
# A field's fragment: its text escaped for HTML, the query's stems marked (none asked: no fragment).
HEADLINE = (
    "CASE WHEN :marked = '' THEN NULL ELSE ts_headline('english', "
    "replace(replace(replace({field}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), CAST(:marked AS tsquery), "
    "'StartSel=<mark>, StopSel=</mark>, MaxFragments=1, MaxWords=35, MinWords=15, FragmentDelimiter=\" … \"') END"
)
HIT_COLUMNS = (
    "key, type, incident_id, postmortem_id, title, summary, impact, factors, lessons, countermeasures, body, "
    "services, severity, source_id, date, published_at"
)


class PostgresEngine:
    """Full-text search in the shared database."""

    def __init__(self, database: Callable[[], Engine], synonyms: Synonyms) -> None:
        self.database = database
        self.synonyms = synonyms
        self._schema = schema()
        self._parsers = {expert: parser(self._schema, expert=expert) for expert in (False, True)}

    # Writing

    def write(self, documents: Sequence[SearchDocument], removed_keys: Sequence[str]) -> None:
        """Add or replace documents and remove keys, in one transaction."""
        keys = [d.key for d in documents] + list(removed_keys)
        if not keys:
            return
        with self.database().begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": WRITE_LOCK})
            old = connection.execute(
                text(
                    "SELECT tsvector_to_array(lexemes), words FROM search_documents WHERE key = ANY(:keys) FOR UPDATE"
                ),
                {"keys": keys},
            ).all()
            counts: Counter[str] = Counter()
            for lexemes, words in old:
                counts.subtract(counted_in(lexemes, words))
            rows = []
            for document in documents:
                row, counted = row_of(document)
                rows.append(row)
                counts.update(counted)
            counts[DOCUMENTS] += len(documents) - len(old)
            if removed_keys:
                connection.execute(text("DELETE FROM search_documents WHERE key = ANY(:keys)"), {"keys": removed_keys})
            insert_rows(connection, rows, replace_existing=True)
            add_counts(connection, counts)

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Every document anew in one transaction: searches see the old ones until it commits, and a
        rebuild that stops halfway leaves them as they were."""
        count = 0
        counts: Counter[str] = Counter()
        with self.database().begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": WRITE_LOCK})
            connection.execute(text("DELETE FROM search_documents"))
            connection.execute(text("DELETE FROM search_lexemes"))
            rows: list[dict[str, Any]] = []
            for document in documents:
                row, counted = row_of(document)
                rows.append(row)
                counts.update(counted)
                count += 1
                if len(rows) >= WRITE_BATCH:
                    insert_rows(connection, rows, replace_existing=False)
                    rows = []
            insert_rows(connection, rows, replace_existing=False)
            counts[DOCUMENTS] = count
            add_counts(connection, counts)
        return count

    def digests(self) -> dict[str, str]:
        """Every document's key and digest."""
        with self.database().connect() as connection:
            return {key: digest for key, digest in connection.execute(text("SELECT key, digest FROM search_documents"))}

    # Searching

    def search(self, request: SearchRequest, reader: Reader) -> SearchResults:
        """A page of what the reader may see that matches."""
        typed = clean(request.q)
        with self.database().connect() as connection:
            if not typed:
                return self._run(connection, None, request, reader, read_as_words=False)
            wanted, read_as_words = parsed(self._parsers, self._schema, typed)
            expert = is_expert(typed)

            def run(asked: query.Query, *, as_words: bool, plain: bool = False) -> SearchResults:
                with_them = with_synonyms(asked, self.synonyms)
                narrow = self._narrowed(connection, asked) if plain else None
                return self._run(connection, with_them, request, reader, read_as_words=as_words, narrow=narrow)

            # As the Whoosh engine does: a misspelt word is searched as the known word it nearly is; an
            # expert's query as typed; words one or two edits away when nothing else is found.
            suggestion, unknown = self._suggest(connection, typed, reader)
            if suggestion is not None and not expert:
                corrected = parsed(self._parsers, self._schema, suggestion)[0]
                return replace(run(corrected, as_words=False, plain=True), suggestion=suggestion, fuzzy=True)
            results = run(wanted, as_words=read_as_words, plain=not expert)
            if results.total or not unknown or expert:
                return replace(results, suggestion=suggestion)
            loose = self._fuzzy(connection, unknown)
            if loose is None:
                return results
            found = run(loose, as_words=read_as_words)
            return replace(found, fuzzy=found.total > 0)

    def similar(
        self, text_: str, services: Sequence[str], reader: Reader, *, exclude_key: str | None, limit: int
    ) -> list[Hit]:
        """Published post-mortems most like this text: its most telling words over the fields a
        post-mortem says what happened in; a shared service counts too."""
        with self.database().connect() as connection:
            total = document_count(connection)
            words = telling_words(text_, lambda stems: frequencies(connection, stems), total)
            if not words and not services:
                return []
            terms: list[query.Query] = [query.Term(field, word) for word in words for field in SIMILAR_FIELDS]
            # In a large library the words narrow what matches; a shared service only ranks.
            narrow = self._narrowed(connection, query.Or(terms)) if terms else None
            terms += [query.Term("service", s.lower()) for s in services]
            request = SearchRequest(q="", filters={"type": ("postmortem",)}, limit=limit)
            found = self._run(
                connection,
                query.Or(terms),
                request,
                reader,
                read_as_words=False,
                exclude_key=exclude_key,
                facets=False,
                fragments=False,
                narrow=narrow,
            )
            return list(found.hits)

    def _run(
        self,
        connection: Connection,
        wanted: query.Query | None,
        request: SearchRequest,
        reader: Reader,
        *,
        read_as_words: bool,
        exclude_key: str | None = None,
        facets: bool = True,
        fragments: bool = True,
        narrow: query.Query | None = None,
    ) -> SearchResults:
        where, params = _visible(reader, request.filters)
        if exclude_key:
            where.append("key <> :exclude")
            params["exclude"] = exclude_key
        matching = narrow if narrow is not None else wanted
        loose = tsquery_of(matching, weighted=False) if matching is not None else None
        scoring: Scoring | None = None
        if wanted is not None and matching is not None and loose is not None:
            params["match"] = loose
            where.append("lexemes @@ CAST(:match AS tsquery)")
            exact = tsquery_of(matching)
            if exact != loose:  # a field's words asked for: read the documents found to check
                params["exact"] = exact
                where.append("lexemes @@ CAST(:exact AS tsquery)")
            if request.sort != "date":
                scoring = self._ranking(connection, wanted)
                if scoring is not None:
                    params.update(scoring.params)
                    params["every_word"] = tsquery_of(wanted, weighted=False)
        want = request.page * request.limit
        params.update(limit=request.limit, offset=want - request.limit, want=want, shortlist=max(SHORTLIST, want))
        condition = " AND ".join(where) or "true"
        # Counting and faceting read no document's lexemes: GIN answers the match from the index alone.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        statement = f"""
            WITH matched AS MATERIALIZED (
                SELECT key, date, facets FROM search_documents WHERE {condition}
            ){_ranked(condition, scoring) if scoring else ""}
            SELECT 'hit', key, NULL, score FROM ({_page(scoring is not None)}) page
            UNION ALL SELECT 'total', NULL, NULL, count(*) FROM matched
            {FACET_COUNTS if facets else ""}
        """
        page: list[tuple[str, float]] = []
        total = 0
        counted: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
        for kind, key, value, number in connection.execute(text(statement), params):
            if kind == "hit":
                page.append((key, float(number or 0.0)))
            elif kind == "total":
                total = int(number)
            else:
                name, _, found = str(value).partition("/")
                if found and name in counted:
                    counted[name].append((found, int(number)))
        terms = query_terms(wanted) if wanted is not None and fragments else set()
        return SearchResults(
            total=total,
            hits=tuple(_hits(connection, page, terms)),
            facets={
                name: sorted(pairs, key=lambda p: (-p[1], p[0]))[: request.facet_values]
                for name, pairs in counted.items()
            },
            read_as_words=read_as_words,
        )

    def _ranking(self, connection: Connection, wanted: query.Query) -> Scoring | None:
        """The score of a document: each word's ts_rank (over its lexemes, `v`) times its rarity, more
        for holding more of the words."""
        groups = ranked_groups(wanted)
        if not groups:
            return None
        stems = {key: key.split(" ") for key in groups}
        counts = frequencies(connection, sorted({s for words in stems.values() for s in words}))
        total = max(1, document_count(connection))
        ranks = []
        parts = []
        held = []
        for number, key in enumerate(groups):
            df = max((counts.get(s, 0) for s in stems[key]), default=0)
            idf = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
            ranks.append(
                f"ts_rank('{RANK_WEIGHTS}', v, CAST(:g{number} AS tsquery), {LENGTH_NORMALIZATION}) AS r{number}"
            )
            parts.append(f"{idf:.6f} * r{number}")
            held.append(f"(r{number} > 0)::int")
        # A document that holds more of the words asked ranks higher (as Whoosh's OR group does).
        coordination = f"(1 + {COORDINATION} * ({' + '.join(held)}))" if len(parts) > 1 else "1"
        return Scoring(
            ranks=", ".join(ranks),
            score=f"({' + '.join(parts)}) * {coordination}",
            params={f"g{number}": written for number, written in enumerate(groups.values())},
        )

    def _narrowed(self, connection: Connection, wanted: query.Query) -> query.Query | None:
        """What a plain query must match in a large library (search/narrowing.py)."""
        return narrowed(wanted, self.synonyms, lambda stems: frequencies(connection, stems), document_count(connection))

    def _suggest(self, connection: Connection, typed: str, reader: Reader) -> tuple[str | None, list[str]]:
        """The query with unknown words replaced by the nearest known ones, offered only when every
        word offered is in a document this reader may see; and the words the library does not know."""
        candidates = [m.group(0).lower() for m in WORD.finditer(typed)]
        known = known_words(connection, candidates, self.synonyms)

        def correct(word: str) -> str | None:
            if word in known:
                return word
            near = near_words(connection, word)
            return near[0] if near else None

        suggestion, replaced, unknown = corrections(typed, correct)
        if suggestion is None:
            return None, unknown
        where, params = _visible(reader, {})
        where.append("lexemes @@ CAST(:word AS tsquery)")
        for word in replaced:
            params["word"] = tsquery_of(query.Term(WORDS, word))
            seen = connection.execute(
                text(f"SELECT 1 FROM search_documents WHERE {' AND '.join(where)} LIMIT 1"), params
            ).first()
            if seen is None:
                return None, unknown
        return suggestion, unknown

    def _fuzzy(self, connection: Connection, unknown: Sequence[str]) -> query.Query | None:
        """Words of the library one edit from those typed (two for long words), as written."""
        terms: list[query.Query] = []
        for word in unknown:
            if 4 <= len(word) <= SPELLING_WORD_MAX:
                reach = 2 if len(word) >= 8 else 1
                terms += [query.Term(WORDS, near) for near in near_words(connection, word, reach=reach, limit=8)]
        return query.Or(terms) if terms else None


def _visible(reader: Reader, filters: dict[str, tuple[str, ...]]) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions for what the reader may see, within the chosen facet values (PostgreSQL's text
    holds no NUL: no stored value has one)."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if not reader.is_admin:
        where.append("(NOT restricted OR CAST(:reader AS bigint) = ANY(reader_ids))")
        params["reader"] = reader.user_id
    for name, values in filters.items():
        if not values:
            continue
        if name in ARRAY_COLUMNS:
            where.append(f"{ARRAY_COLUMNS[name]} && CAST(:f_{name} AS text[])")
            params[f"f_{name}"] = [v.lower().replace("\x00", "") for v in values]
        elif name in VALUE_COLUMNS:
            where.append(f"{VALUE_COLUMNS[name]} = ANY(CAST(:f_{name} AS text[]))")
            params[f"f_{name}"] = [v.replace("\x00", "") for v in values]
    return where, params


@dataclass(frozen=True)
class Scoring:
    """How matches are ranked: each word's rank (columns r0, r1, … over the lexemes `v`), the score
    made of them, and the words' tsqueries."""

    ranks: str
    score: str
    params: dict[str, str]


def _ranked(condition: str, scoring: Scoring) -> str:
    """The matches ranked, best first, as many as the pages up to the one asked hold. Of many matches,
    only a shortlist is scored word by word: those ts_rank puts first for all the words at once (one
    call a document, not one a word); each document's lexemes read once (`v`)."""
    return f""",
            ranked AS (
                SELECT key, date, {scoring.score} AS score FROM (
                    SELECT d.key, d.date, {scoring.ranks}
                    FROM (
                        SELECT key, date, lexemes FROM search_documents WHERE {condition}
                        ORDER BY ts_rank('{RANK_WEIGHTS}', lexemes, CAST(:every_word AS tsquery),
                            {LENGTH_NORMALIZATION}) DESC, date DESC, key
                        LIMIT :shortlist
                    ) d CROSS JOIN LATERAL (SELECT d.lexemes || ''::tsvector AS v OFFSET 0) read
                ) ranks
                ORDER BY score DESC, date DESC, key LIMIT :want
            )"""


def _page(ranked: bool) -> str:
    """The page asked: the best matches, or with no words to rank, the newest."""
    if not ranked:
        return "SELECT key, 0.0 AS score FROM matched ORDER BY date DESC, key LIMIT :limit OFFSET :offset"
    return "SELECT key, score FROM ranked ORDER BY score DESC, date DESC, key LIMIT :limit OFFSET :offset"


# The facet counts of what matched, in one pass: rows ('facet', NULL, "facet/value", count).
FACET_COUNTS = " UNION ALL SELECT 'facet', NULL, value, count(*) FROM matched, unnest(facets) AS value GROUP BY value"


def _hits(connection: Connection, page: list[tuple[str, float]], terms: set[str]) -> list[Hit]:
    """The page's hits, with fragments of their fields where the query's words are marked (ts_headline
    over the text HTML-escaped, so that only its <mark> tags are markup)."""
    if not page:
        return []
    fragments = ", ".join(f"{HEADLINE.format(field=field)} AS hl_{field}" for field in HIGHLIGHT_FIELDS)
    params = {"keys": [k for k, _ in page], "marked": " | ".join(quoted(t) for t in sorted(terms)) or ""}
    rows = {
        row.key: row
        for row in connection.execute(
            text(f"SELECT {HIT_COLUMNS}, {fragments} FROM search_documents WHERE key = ANY(:keys)"), params
        )
    }
    found = []
    for key, score in page:
        row = rows.get(key)
        if row is None:
            continue
        marked = [getattr(row, f"hl_{field}") or "" for field in HIGHLIGHT_FIELDS]
        shown = [nh3.clean(f, tags={"mark"}, attributes={}) for f in marked if "<mark>" in f][:HIGHLIGHTS_SHOWN]
        found.append(
            Hit(
                type=row.type,
                incident_id=int(row.incident_id),
                postmortem_id=row.postmortem_id,
                title=row.title,
                score=score,
                highlights=tuple(shown),
                published_at=row.published_at,
                services=tuple(row.services),
                severity=row.severity,
                source_id=row.source_id,
                date=row.date,
            )
        )
    return found

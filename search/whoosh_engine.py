"""Searching the embedded Whoosh index: what the reader may see, ranked by BM25F, with highlights on
the page shown, facet counts, "did you mean", fuzzy words when the exact ones find nothing, and
similar post-mortems. Ranking and facet counts are whoosh_ranking's (Whoosh's scores, term at a
time); fragments whoosh_fragments' (Whoosh's fragments, for less)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import nh3
from whoosh import query
from whoosh.searching import Searcher

from .documents import SearchDocument
from .engine import FACETS, Hit, Reader, SearchRequest, SearchResults
from .narrowing import narrowed
from .query import (
    TEXT_FIELDS,
    Synonyms,
    analyzer,
    clean,
    fuzzy_words,
    is_expert,
    parser,
    with_synonyms,
)
from .reading import HIGHLIGHT_FIELDS, HIGHLIGHTS_SHOWN, corrections, parsed, stems_of, telling_words
from .whoosh_fragments import Fragments
from .whoosh_index import IndexFolder, schema
from .whoosh_ranking import Ranked, docs, rank

# The fields a facet counts, by its request parameter.
FACET_FIELDS = {
    "type": "type",
    "service": "service",
    "team": "team",
    "severity": "severity",
    "category": "category",
    "tag": "tag",
    "year": "year",
}
# A fragment is looked for in the first this many characters of a section.
HIGHLIGHT_CHARS = 20_000
SIMILAR_FIELDS = ("content", "title", "summary", "factors")


class WhooshEngine:
    """The embedded engine: one index folder on local disk."""

    def __init__(self, folder: IndexFolder, synonyms: Synonyms) -> None:
        self.folder = folder
        self.synonyms = synonyms
        self._schema = schema()
        self._parsers = {expert: parser(self._schema, expert=expert) for expert in (False, True)}
        self._analyzer = analyzer()
        self._fragments = Fragments(self._analyzer)

    def write(self, documents: Sequence[SearchDocument], removed_keys: Sequence[str]) -> None:
        """Add or replace documents and remove keys, in one commit."""
        self.folder.write(documents, removed_keys)

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """A new index aside, then in use."""
        return self.folder.rebuild(documents)

    def digests(self) -> dict[str, str]:
        """Every document's key and digest."""
        with self.folder.searcher() as searcher:
            return {fields["key"]: fields["digest"] for fields in searcher.all_stored_fields()}

    def search(self, request: SearchRequest, reader: Reader) -> SearchResults:
        """A page of what the reader may see that matches."""
        text = clean(request.q)
        with self.folder.searcher() as searcher:
            denied = _denied(searcher, reader)
            required = _required(searcher, request.filters)

            def run(asked: query.Query, *, read_as_words: bool, plain: bool = False) -> SearchResults:
                within = required
                narrow = self._narrowed(searcher, asked) if plain else None
                if narrow is not None:
                    holding = docs(searcher, narrow)
                    within = holding if required is None else required & holding
                wanted = with_synonyms(asked, self.synonyms)
                return self._run(searcher, wanted, denied, within, request, read_as_words=read_as_words)

            if not text:
                return run(query.Every(), read_as_words=False)
            parsed, read_as_words = self._parse(text)
            expert = is_expert(text)
            # A word the library does not know is likely misspelled: when a nearby known one finds
            # something, search that instead, and say so ("did you mean"). An expert's query is
            # searched as typed; it only gets the suggestion when it finds nothing.
            suggestion, unknown = self._suggest(searcher, text, denied)
            if suggestion is not None and not expert:
                corrected = self._parse(suggestion)[0]
                found = run(corrected, read_as_words=False, plain=True)
                return replace(found, suggestion=suggestion, fuzzy=True)
            results = run(parsed, read_as_words=read_as_words, plain=not expert)
            if results.total or not unknown or expert:
                return replace(results, suggestion=suggestion)
            # Still nothing, and no better word known: words one or two edits away from those typed.
            loose = fuzzy_words(" ".join(unknown))
            found = run(loose, read_as_words=read_as_words)
            return replace(found, fuzzy=found.total > 0)

    def similar(
        self, text: str, services: Sequence[str], reader: Reader, *, exclude_key: str | None, limit: int
    ) -> list[Hit]:
        """Published post-mortems most like this text: its most telling words, ORed, over the fields
        a post-mortem says what happened in; a shared service counts too."""
        with self.folder.searcher() as searcher:
            words = telling_words(text, lambda stems: _frequencies(searcher, stems), searcher.doc_count())
            if not words and not services:
                return []
            terms: list[query.Query] = [query.Term(field, word) for word in words for field in SIMILAR_FIELDS]
            # In a large library the words narrow what matches; a shared service only ranks.
            narrow = self._narrowed(searcher, query.Or(terms)) if terms else None
            terms += [query.Term("service", s.lower(), boost=2.0) for s in services]
            denied = _denied(searcher, reader)
            if exclude_key:
                denied |= docs(searcher, query.Term("key", exclude_key))
            required = docs(searcher, query.Term("type", "postmortem"))
            if narrow is not None:
                required &= docs(searcher, narrow)
            ranked = rank(searcher, query.Or(terms), denied=denied, required=required, limit=limit)
            return [_hit(searcher.stored_fields(docnum), score, ()) for docnum, score in ranked.top]

    def _narrowed(self, searcher: Searcher, asked: query.Query) -> query.Query | None:
        """What a plain query must match in a large library (search/narrowing.py)."""
        return narrowed(asked, self.synonyms, lambda stems: _frequencies(searcher, stems), searcher.doc_count())

    def _parse(self, text: str) -> tuple[query.Query, bool]:
        """The query, or its plain words when the syntax cannot be read or names a field that does not exist."""
        return parsed(self._parsers, self._schema, text)

    def _run(
        self,
        searcher: Searcher,
        wanted: query.Query,
        denied: set[int],
        required: set[int] | None,
        request: SearchRequest,
        *,
        read_as_words: bool,
    ) -> SearchResults:
        ranked: Ranked = rank(
            searcher,
            wanted,
            denied=denied,
            required=required,
            limit=request.page * request.limit,
            by_date=request.sort == "date",
            facets=[FACET_FIELDS[name] for name in FACETS],
        )
        start = (request.page - 1) * request.limit
        words = _highlighted_words(wanted)
        shown = ranked.top[start : start + request.limit]
        page = [self._hit(searcher, docnum, score, words) for docnum, score in shown]
        return SearchResults(
            total=ranked.total,
            hits=tuple(page),
            facets={name: _shown(ranked.facets[FACET_FIELDS[name]], request.facet_values) for name in FACETS},
            read_as_words=read_as_words,
        )

    def _hit(self, searcher: Searcher, docnum: int, score: float, words: frozenset[str]) -> Hit:
        fields = searcher.stored_fields(docnum)
        highlights: list[str] = []
        for name in HIGHLIGHT_FIELDS if words else ():
            if len(highlights) >= HIGHLIGHTS_SHOWN:
                break
            text = fields.get(name)
            fragment = self._fragments.best(text[:HIGHLIGHT_CHARS], words) if text else ""
            if fragment:
                highlights.append(nh3.clean(fragment, tags={"mark"}, attributes={}))
        return _hit(fields, score, tuple(highlights))

    def _known(self, reader: Any, word: str) -> bool:
        """A word the library holds as written or as its stem, a stop word, or a word with synonyms."""
        if reader.frequency("words", word) > 0:
            return True
        stems = stems_of(word)
        return not stems or any(
            self.synonyms.alternatives(stem) or reader.frequency("content", stem) > 0 for stem in stems
        )

    def _suggest(self, searcher: Searcher, text: str, denied: set[int]) -> tuple[str | None, list[str]]:
        """The query with unknown words replaced by the nearest known ones, offered only when it finds
        something this reader may see (so no word of a hidden incident is ever suggested); and the
        words the library does not know."""
        corrector = searcher.corrector("words")
        reader = searcher.reader()

        def correct(word: str) -> str | None:
            if self._known(reader, word):
                return word
            found = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
            return str(found[0]) if found else None

        # Letters only, and not a field's name (service:...): what the syntax says stays as it is.
        suggestion, corrected, unknown = corrections(text, correct)
        if suggestion is None:
            return None, unknown
        # Every word offered must be in a report this reader may see.
        for word in corrected:
            if not docs(searcher, query.Term("words", word)) - denied:
                return None, unknown
        return suggestion, unknown


def _denied(searcher: Searcher, reader: Reader) -> set[int]:
    """The documents this reader may not see: restricted incidents they take no part in."""
    if reader.is_admin:
        return set()
    return docs(searcher, query.Term("restricted", True)) - docs(searcher, query.Term("readers", str(reader.user_id)))


def _required(searcher: Searcher, filters: dict[str, tuple[str, ...]]) -> set[int] | None:
    """The documents within the chosen facet values (each facet: any of its values), or None for all."""
    parts: list[query.Query] = []
    for name, values in filters.items():
        field = FACET_FIELDS.get(name)
        if field and values:
            lowered = field in ("service", "team", "tag", "category")
            parts.append(query.Or([query.Term(field, v.lower() if lowered else v) for v in values]))
    return docs(searcher, query.And(parts)) if parts else None


def _shown(counts: dict[str, int], shown: int) -> list[tuple[str, int]]:
    counted = [(str(value), n) for value, n in counts.items() if value not in (None, "")]
    return sorted(counted, key=lambda pair: (-pair[1], pair[0]))[:shown]


def _highlighted_words(wanted: query.Query) -> frozenset[str]:
    """The words of the query's text fields, which fragments mark."""
    return frozenset(text for field, text in wanted.iter_all_terms() if field in TEXT_FIELDS and isinstance(text, str))


def _hit(fields: dict[str, Any], score: float, highlights: tuple[str, ...]) -> Hit:
    date = fields["date"]
    return Hit(
        type=fields["type"],
        incident_id=int(fields["incident_id"]),
        postmortem_id=fields.get("postmortem_id"),
        title=fields.get("title", ""),
        score=score,
        highlights=highlights,
        published_at=fields.get("published_at"),
        services=tuple(s for s in fields.get("service", "").split(",") if s),
        severity=fields.get("severity", ""),
        source_id=fields.get("source_id"),
        date=date.replace(tzinfo=UTC) if isinstance(date, datetime) and date.tzinfo is None else date,
    )


def _frequencies(searcher: Searcher, stems: Sequence[str]) -> dict[str, int]:
    """In how many documents each stem is."""
    return {stem: searcher.doc_frequency("content", stem) for stem in stems}

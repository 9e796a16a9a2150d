"""Ranking a query over the Whoosh index term at a time, with the scores Whoosh's BM25F gives.

Whoosh scores a query document at a time: for each document that holds any of its words it walks a
tree of matchers, one a word and field, in Python. A person's query is six to eight plain words over
several fields, ORed, so nearly every document matches and the tree is walked for each: at 10,000
post-mortems that alone was most of a second. Here each postings list of the query is read block by
block and its BM25F score added into an array, one list after the other; facet counts come from
bit sets of each facet value, cached per segment (a segment never changes), and the top hits from
the array. The scores are Whoosh's own (its scorer's idf, field-length normalisation and boosts); a test
compares both rankings. Anything that is not a term under ORs (a phrase, AND, NOT, fuzzy words, an
OR with a coordination bonus) is scored by its own Whoosh matcher.

Reads the postings blocks of whoosh-reloaded 2.7.5 (pinned) directly; any other matcher is read
through its public methods.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import query
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer
from whoosh.searching import Searcher

# Segment data kept (a field's lengths and their norms, a facet's values, dates), about 20 a segment:
# a segment never changes, so this is only bounded to forget segments no longer in use.
CACHED_SEGMENT_FIELDS = 1024


@dataclass(frozen=True)
class Ranked:
    """What a query found: how many documents, the best of them (global docnum, score), facet counts."""

    total: int
    top: list[tuple[int, float]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class _SegmentCache:
    """Values computed from one segment, which never changes: field lengths, facet bit sets, dates."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple[str, str, str], Any] = OrderedDict()

    def get(self, key: tuple[str, str, str], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        self.put(key, value)
        return value

    def put(self, key: tuple[str, str, str], value: Any) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)


_cache = _SegmentCache(CACHED_SEGMENT_FIELDS)


def rank(
    searcher: Searcher,
    wanted: query.Query,
    *,
    denied: set[int] | None = None,
    required: set[int] | None = None,
    limit: int | None = 10,
    by_date: bool = False,
    facets: Sequence[str] = (),
) -> Ranked:
    """The documents matching `wanted` (global docnums), except those denied and outside those
    required: their number, the best `limit` (by score, or newest first by the `date` column) and,
    for each field of `facets`, how many hold each of its values."""
    clauses = _clauses(wanted)
    context = searcher.context()
    scored: list[tuple[Any, int]] = []
    counts: dict[str, dict[str, int]] = {name: {} for name in facets}
    total = 0
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        size = reader.doc_count_all()
        scores = [0.0] * size
        matching = [0] * size
        for clause, boost in clauses:
            _add(subsearcher, context, clause, boost, scores, matching)
        found = list(itertools.compress(range(size), matching))
        gone = _deleted(reader)
        if gone or denied or required is not None:
            found = [
                d
                for d in found
                if d not in gone
                and (not denied or d + offset not in denied)
                and (required is None or d + offset in required)
            ]
        if not found:
            continue
        total += len(found)
        # The segment's best first (nlargest is stable: equal scores keep index order), then all
        # segments' best together.
        if by_date:
            dates = _dates(reader)
            newest = found if limit is None else heapq.nlargest(limit, found, key=lambda d: (dates[d], d))
            scored.extend((dates[d], d + offset) for d in newest)
        else:
            highest = found if limit is None else heapq.nlargest(limit, found, key=scores.__getitem__)
            scored.extend((scores[d], -(d + offset)) for d in highest)
        if facets:
            _count(reader, found, facets, counts)
    best = heapq.nlargest(limit, scored) if limit is not None else sorted(scored, reverse=True)
    # Newest first, or best first and then in index order (as Whoosh's collectors order them).
    top = [(docnum, 0.0) for _date, docnum in best] if by_date else [(-negated, score) for score, negated in best]
    return Ranked(total=total, top=top, facets=counts)


def docs(searcher: Searcher, wanted: query.Query) -> set[int]:
    """The global docnums of the live documents matching a filter: terms, ORs and ANDs of them read
    from their postings, anything else by Whoosh."""
    if isinstance(wanted, query.Term):
        found: set[int] = set()
        for subsearcher, offset in searcher.leaf_searchers():
            reader = subsearcher.reader()
            gone = _deleted(reader)
            for ids, _weights in _postings(reader, wanted.fieldname, wanted.text):
                found.update(d + offset for d in ids if d not in gone)
        return found
    if isinstance(wanted, query.Or) and wanted.subqueries:
        return set().union(*(docs(searcher, q) for q in wanted.subqueries))
    if isinstance(wanted, query.And) and wanted.subqueries:
        return set.intersection(*(docs(searcher, q) for q in wanted.subqueries))
    return set(searcher.docs_for_query(wanted))


def _clauses(wanted: query.Query) -> list[tuple[query.Query, float]]:
    """The query as what is scored on its own, with the boost it is scored by: the terms under ORs
    (multiplying boosts as Whoosh's matchers do), and any other part whole."""
    return list(_flat(wanted, 1.0))


def _flat(node: query.Query, boost: float) -> Iterator[tuple[query.Query, float]]:
    if isinstance(node, query.Or) and not node.scale and node.subqueries:
        inner = boost * node.boost if len(node.subqueries) > 1 else boost  # Whoosh drops an OR of one's boost
        for sub in node.subqueries:
            yield from _flat(sub, inner)
    elif isinstance(node, query.Term) and type(node) is query.Term:
        yield query.Term(node.fieldname, node.text), boost * node.boost
    else:
        yield node, boost


def _add(
    searcher: Searcher, context: Any, clause: query.Query, boost: float, scores: list[float], matching: list[int]
) -> None:
    """Add one clause's scores over a segment, and count it in the documents it matches."""
    reader = searcher.reader()
    if isinstance(clause, query.Term) and type(clause) is query.Term:
        fieldname = clause.fieldname
        if fieldname not in searcher.schema:
            return
        try:
            text = searcher.schema[fieldname].to_bytes(clause.text)
        except ValueError:
            return
        if (fieldname, text) not in reader:
            return
        scorer = context.weighting.scorer(searcher, fieldname, text)
        if isinstance(scorer, BM25FScorer):
            times = boost * scorer.idf * (scorer.K1 + 1)
            norms = _norms(reader, fieldname, scorer.B, scorer.K1, scorer.avgfl)
            for ids, weights in _postings(reader, fieldname, text):
                for d, tf in zip(ids, weights, strict=True):
                    scores[d] += times * tf / (tf + norms[d])
                    matching[d] = 1
            return
        matcher = searcher.postings(fieldname, text, weighting=context.weighting)
    else:
        matcher = clause.matcher(searcher, context)
    while matcher.is_active():
        d = matcher.id()
        scores[d] += boost * matcher.score()
        matching[d] += 1
        matcher.next()


def _postings(reader: Any, fieldname: str, text: Any) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """A term's postings in a segment, block by block: (docnums, weights), deleted documents included."""
    if fieldname not in reader.schema:
        return
    if not isinstance(text, bytes):
        try:
            text = reader.schema[fieldname].to_bytes(text)
        except ValueError:
            return
    if (fieldname, text) not in reader:
        return
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # deletions: the callers drop deleted documents themselves
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            yield matcher._ids, matcher._weights
            matcher._next_block()
        return
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    yield ids, weights


def _segment(reader: Any) -> str:
    found: str = reader.segment().segment_id()
    return found


def _deleted(reader: Any) -> frozenset[int]:
    if not reader.has_deletions():
        return frozenset()
    found = getattr(reader, "deleted_docs_set", None)  # a segment reader's, read once
    if found is None:
        return frozenset(d for d in range(reader.doc_count_all()) if reader.is_deleted(d))
    return frozenset(found)


def _norms(reader: Any, fieldname: str, b: float, k1: float, average: float) -> list[float]:
    """BM25's length normalisation of every document of a segment in a field (K1 * (1 - B + B * dl /
    avgdl)), from the field lengths as Whoosh stores them (one byte, rounded). The average is the
    whole index's, which any commit changes: only the latest is kept."""
    segment = _segment(reader)
    lengths: list[int] = _cache.get(
        (segment, fieldname, "lengths"),
        lambda: [reader.doc_field_length(d, fieldname, 1) or 0 for d in range(reader.doc_count_all())],
    )
    average = average or 1
    wanted = (b, k1, average)
    found: tuple[tuple[float, float, float], list[float]] = _cache.get((segment, fieldname, "norms"), lambda: ((), []))
    if found[0] != wanted:
        found = (wanted, [k1 * ((1 - b) + b * length / average) for length in lengths])
        _cache.put((segment, fieldname, "norms"), found)
    return found[1]


def _dates(reader: Any) -> list[Any]:
    def read() -> list[Any]:
        column = reader.column_reader("date")
        return [column[d] for d in range(reader.doc_count_all())]

    found: list[Any] = _cache.get((_segment(reader), "date", "column"), read)
    return found


def _values(reader: Any, fieldname: str) -> dict[str, int]:
    """Each value of a facet field in a segment, and the documents holding it as a bit set (see _bits)."""

    def read() -> dict[str, int]:
        size = reader.doc_count_all()
        found = {}
        for text in reader.lexicon(fieldname):
            holders: list[int] = []
            for ids, _weights in _postings(reader, fieldname, text):
                holders.extend(ids)
            found[reader.schema[fieldname].from_bytes(text)] = _bits(holders, size)
        return found

    values: dict[str, int] = _cache.get((_segment(reader), fieldname, "values"), read)
    return values


def _bits(docnums: Iterable[int], size: int) -> int:
    """Documents of a segment as the bits of an integer (the first document the highest bit), so that
    counting those of a facet value that matched is one AND and one bit count."""
    digits = bytearray(b"0" * size)
    for d in docnums:
        digits[d] = 49  # "1"
    return int(digits, 2) if size else 0


def _count(reader: Any, found: list[int], facets: Sequence[str], counts: dict[str, dict[str, int]]) -> None:
    matched = _bits(found, reader.doc_count_all())
    for fieldname in facets:
        counted = counts[fieldname]
        for value, holders in _values(reader, fieldname).items():
            n = (holders & matched).bit_count()
            if n:
                counted[value] = counted.get(value, 0) + n

"""Ranking a query over the Whoosh index term at a time, with the scores Whoosh's BM25F gives.

Whoosh scores a query document at a time: for each document that holds any of its words it walks a
tree of matchers, one a word and field, in Python. A person's query is six to eight plain words over
several fields, ORed, so nearly every document matches and the tree is walked for each: at 10,000
post-mortems that alone was most of a second. Here each postings list of the query is read into
arrays and its BM25F scores added into an array of the segment's documents, one list after the
other; a phrase (most come from synonyms, "error rate") adds its words' scores where the words
follow each other, and which documents those are is remembered per segment (a segment never
changes). Facet counts come from each facet value's documents, cached per segment too, and the top
hits from the array. The scores are Whoosh's own (its scorer's idf, field-length normalisation and
boosts); a test compares both rankings. Anything else (AND, NOT, fuzzy words, a phrase with slop,
an OR with a coordination bonus) is scored by its own Whoosh matcher.

Postings are read in bulk by whoosh_index (from whoosh-reloaded 2.7.5's blocks, pinned); any other
matcher is read through its public methods.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import formats, query
from whoosh.scoring import BM25FScorer
from whoosh.searching import Searcher

from .whoosh_index import positions, postings

# Segment data kept (a field's lengths and their norms, a facet's values, dates), about 20 a segment:
# a segment never changes, so this is only bounded to forget segments no longer in use.
CACHED_SEGMENT_FIELDS = 1024
# Where a phrase is in a segment, kept apart: people's own phrases are many, and so that they never
# push out the above. At most a docnum (8 bytes) a document each.
CACHED_PHRASES = 256
# The postings kept decoded, across segments: 64 MB.
CACHED_POSTINGS_BYTES = 64 * 1024 * 1024

Docnums = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Ranked:
    """What a query found: how many documents, the best of them (global docnum, score), facet counts."""

    total: int
    top: list[tuple[int, float]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class _SegmentCache:
    """Values computed from one segment, which never changes: field lengths, facet values, dates, phrases."""

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
_phrases = _SegmentCache(CACHED_PHRASES)


class _PostingsCache:
    """A segment's postings of the terms read most lately, up to a number of bytes: a common word is in
    many queries and in many reports, and decompressing its blocks again each time was most of a
    query's work. A segment never changes (deleted documents stay in its postings), so an entry
    stays true for as long as the segment lives."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._values: OrderedDict[tuple[str, str, bytes], tuple[Docnums, Floats] | None] = OrderedDict()

    def postings(self, reader: Any, fieldname: str, text: bytes) -> tuple[Docnums, Floats] | None:
        key = (_segment(reader), fieldname, text)
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        held = postings(reader, fieldname, text)
        if held is not None:
            held = (_kept(held[0]), _kept(held[1]))
        size = 64 + (held[0].nbytes + held[1].nbytes if held is not None else 0)
        if size > self._max_bytes // 8:
            return held  # one term is not to push out everything else
        with self._lock:
            if key not in self._values:
                self._values[key] = held
                self._bytes += size
            while self._bytes > self._max_bytes and self._values:
                _key, dropped = self._values.popitem(last=False)
                self._bytes -= 64 + (dropped[0].nbytes + dropped[1].nbytes if dropped is not None else 0)
        return held


_postings = _PostingsCache(CACHED_POSTINGS_BYTES)


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
    denied_docnums = _array(denied or set())
    required_docnums = None if required is None else _array(required)
    counts: dict[str, dict[str, int]] = {name: {} for name in facets}
    keys: list[npt.NDArray[Any]] = []
    docnums: list[Docnums] = []
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        size = reader.doc_count_all()
        scores = np.zeros(size)
        matched = np.zeros(size, dtype=bool)
        for clause, boost in clauses:
            _add(subsearcher, context, clause, boost, scores, matched)
        matched[_deleted_docnums(reader)] = False
        if denied_docnums.size:
            matched[_within(denied_docnums, offset, size)] = False
        if required_docnums is not None:
            allowed = np.zeros(size, dtype=bool)
            allowed[_within(required_docnums, offset, size)] = True
            matched &= allowed
        found = np.flatnonzero(matched)
        if not found.size:
            continue
        keys.append(_dates(reader)[found] if by_date else scores[found])
        docnums.append(found + offset)
        if facets:
            _count(reader, matched, facets, counts)
    if not docnums:
        return Ranked(total=0, top=[], facets=counts)
    every_key, every_docnum = np.concatenate(keys), np.concatenate(docnums)
    return Ranked(total=int(every_docnum.size), top=_best(every_key, every_docnum, limit, by_date), facets=counts)


def docs(searcher: Searcher, wanted: query.Query) -> set[int]:
    """The global docnums of the live documents matching a filter: terms, ORs and ANDs of them read
    from their postings, anything else by Whoosh."""
    if isinstance(wanted, query.Term):
        found: set[int] = set()
        for subsearcher, offset in searcher.leaf_searchers():
            reader = subsearcher.reader()
            held = postings(reader, wanted.fieldname, wanted.text)
            if held is None:
                continue
            ids = held[0]
            if reader.has_deletions():
                live = np.ones(reader.doc_count_all(), dtype=bool)
                live[_deleted_docnums(reader)] = False
                ids = ids[live[ids]]
            found.update((ids + offset).tolist())
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


def _best(keys: npt.NDArray[Any], docnums: Docnums, limit: int | None, newest: bool) -> list[tuple[int, float]]:
    """The first `limit` documents: best first and then in index order (as Whoosh's collectors order
    them), or newest first and then the last indexed first."""
    if limit is not None and keys.size > limit:
        if limit <= 0:
            return []
        # Only what may be among the first: the limit-th highest key and above, ties included.
        kth = np.partition(keys, keys.size - limit)[keys.size - limit]
        near = keys >= kth
        keys, docnums = keys[near], docnums[near]
    if newest:
        order = np.lexsort((docnums, keys))[::-1][:limit]
        return [(docnum, 0.0) for docnum in docnums[order].tolist()]
    order = np.lexsort((docnums, -keys))[:limit]
    return list(zip(docnums[order].tolist(), keys[order].tolist(), strict=True))


def _add(searcher: Searcher, context: Any, clause: query.Query, boost: float, scores: Floats, matched: Mask) -> None:
    """Add one clause's scores over a segment, and mark the documents it matches."""
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
        held = _postings.postings(reader, fieldname, text) if isinstance(scorer, BM25FScorer) else None
        if held is not None:
            ids, weights = held
            times = boost * scorer.idf * (scorer.K1 + 1)
            norms = _norms(reader, fieldname, scorer.B, scorer.K1, scorer.avgfl)
            # A term's docnums are distinct, so adding through them adds once each.
            scores[ids] += times * weights / (weights + norms[ids])
            matched[ids] = True
            return
        matcher = searcher.postings(fieldname, text, weighting=context.weighting)
    elif type(clause) is query.Phrase and _add_phrase(searcher, context, clause, boost, scores, matched):
        return
    elif type(clause) is query.Every and clause.fieldname in (None, "", "*"):
        # Every live document, each weighing the query's boost (Whoosh's list matcher reads 0 as 1).
        scores += boost * (clause.boost or 1.0)
        matched[:] = True
        return
    else:
        matcher = clause.matcher(searcher, context)
    ids_found: list[int] = []
    scores_found: list[float] = []
    while matcher.is_active():
        ids_found.append(matcher.id())
        scores_found.append(matcher.score())
        matcher.next()
    if ids_found:
        at = np.array(ids_found, dtype=np.int64)
        scores[at] += boost * np.array(scores_found)
        matched[at] = True


def _add_phrase(
    searcher: Searcher, context: Any, phrase: query.Phrase, boost: float, scores: Floats, matched: Mask
) -> bool:
    """Add a phrase's scores over a segment as Whoosh's phrase matcher gives them (its words' scores
    summed as its tree of matchers does, times the phrase's boost) where its words follow each other;
    False when it is not a plain phrase of a field with positions, left to Whoosh's matcher."""
    fieldname = phrase.fieldname
    if phrase.slop != 1 or not phrase.words or fieldname not in searcher.schema:
        return False
    found = searcher.schema[fieldname]
    if type(found.format) is not formats.Positions:
        return False
    reader = searcher.reader()
    words: list[bytes] = []
    scorers: list[BM25FScorer] = []
    for word in phrase.words:
        try:
            text = found.to_bytes(word)
        except ValueError:
            return True  # Whoosh matches nothing
        if (fieldname, text) not in reader:
            return True
        scorer = context.weighting.scorer(searcher, fieldname, text)
        if not isinstance(scorer, BM25FScorer):
            return False
        words.append(text)
        scorers.append(scorer)
    where = _phrase_docnums(reader, fieldname, words)
    if not where.size:
        return True
    parts = []
    for text, scorer in zip(words, scorers, strict=True):
        ids, weights = _postings.postings(reader, fieldname, text) or (np.zeros(0, np.int64), np.zeros(0))
        tf = weights[np.searchsorted(ids, where)]
        norms = _norms(reader, fieldname, scorer.B, scorer.K1, scorer.avgfl)[where]
        parts.append(scorer.idf * ((tf * (scorer.K1 + 1)) / (tf + norms)))
    total = _tree_sum(parts)
    if phrase.boost != 1.0:
        total = total * phrase.boost
    scores[where] += boost * total
    matched[where] = True
    return True


def _tree_sum(parts: list[Floats]) -> Floats:
    """Sum as Whoosh's intersection matchers do: halves first (a + (b + c) for three)."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])


def _phrase_docnums(reader: Any, fieldname: str, words: list[bytes]) -> Docnums:
    """The documents of a segment (deleted ones included) where the words follow each other."""

    def find() -> Docnums:
        lists = [positions(reader, fieldname, text) for text in words]
        both = reduce(lambda a, b: np.intersect1d(a, b, assume_unique=True), (ids for ids, _values in lists))
        decode = reader.schema[fieldname].format.decode_positions
        at = [np.searchsorted(ids, both).tolist() for ids, _values in lists]
        where = []
        for n, docnum in enumerate(both.tolist()):
            starts = set(decode(lists[0][1][at[0][n]]))
            for i in range(1, len(words)):
                starts.intersection_update(p - i for p in decode(lists[i][1][at[i][n]]))
                if not starts:
                    break
            else:
                where.append(docnum)
        return _kept(np.array(where, dtype=np.int64))

    key = "phrase:" + "\x1f".join(text.decode("utf-8", "surrogateescape") for text in words)
    phrase: Docnums = _phrases.get((_segment(reader), fieldname, key), find)
    return phrase


def _within(docnums: Docnums, offset: int, size: int) -> Docnums:
    """Those of the global docnums in the segment starting at offset, as its own docnums."""
    inside = docnums[(docnums >= offset) & (docnums < offset + size)]
    return inside - offset


def _array(docnums: set[int]) -> Docnums:
    return np.fromiter(docnums, dtype=np.int64, count=len(docnums))


def _kept(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An array for the segment cache, which every thread reads: made read-only."""
    array.flags.writeable = False
    return array


def _segment(reader: Any) -> str:
    found: str = reader.segment().segment_id()
    return found


def _deleted_docnums(reader: Any) -> Docnums:
    if not reader.has_deletions():
        return np.zeros(0, dtype=np.int64)
    found = getattr(reader, "deleted_docs_set", None)  # a segment reader's, read once
    if found is None:
        found = [d for d in range(reader.doc_count_all()) if reader.is_deleted(d)]
    return np.fromiter(found, dtype=np.int64, count=len(found))


def _norms(reader: Any, fieldname: str, b: float, k1: float, average: float) -> Floats:
    """BM25's length normalisation of every document of a segment in a field (K1 * (1 - B + B * dl /
    avgdl)), from the field lengths as Whoosh stores them (one byte, rounded). The average is the
    whole index's, which any commit changes: only the latest is kept."""
    segment = _segment(reader)
    lengths: Floats = _cache.get(
        (segment, fieldname, "lengths"),
        lambda: _kept(
            np.array([reader.doc_field_length(d, fieldname, 1) or 0 for d in range(reader.doc_count_all())], float)
        ),
    )
    average = average or 1
    wanted = (b, k1, average)
    found: tuple[tuple[float, float, float], Floats] = _cache.get((segment, fieldname, "norms"), lambda: ((), None))
    if found[0] != wanted:
        found = (wanted, _kept(k1 * ((1 - b) + b * lengths / average)))
        _cache.put((segment, fieldname, "norms"), found)
    return found[1]


def _dates(reader: Any) -> npt.NDArray[np.uint64]:
    """Each document's date as the `date` column holds it (an unsigned number, in the dates' order)."""

    def read() -> npt.NDArray[np.uint64]:
        column = reader.column_reader("date", translate=False)
        return _kept(np.array([column[d] for d in range(reader.doc_count_all())], dtype=np.uint64))

    found: npt.NDArray[np.uint64] = _cache.get((_segment(reader), "date", "sortable"), read)
    return found


@dataclass(frozen=True)
class _Facet:
    """A facet field's values in a segment, and every (document, value) pair of its postings."""

    values: list[Any]
    docnums: Docnums
    codes: Docnums


def _facet(reader: Any, fieldname: str) -> _Facet:
    def read() -> _Facet:
        values: list[Any] = []
        docnums: list[Docnums] = []
        codes: list[Docnums] = []
        for text in reader.lexicon(fieldname):
            held = postings(reader, fieldname, text)
            if held is None:
                continue
            docnums.append(held[0])
            codes.append(np.full(held[0].size, len(values), dtype=np.int64))
            values.append(reader.schema[fieldname].from_bytes(text))
        if not values:
            return _Facet([], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        return _Facet(values, _kept(np.concatenate(docnums)), _kept(np.concatenate(codes)))

    found: _Facet = _cache.get((_segment(reader), fieldname, "facet"), read)
    return found


def _count(reader: Any, matched: Mask, facets: Sequence[str], counts: dict[str, dict[str, int]]) -> None:
    for fieldname in facets:
        facet = _facet(reader, fieldname)
        if not facet.values:
            continue
        counted = counts[fieldname]
        per_value = np.bincount(facet.codes[matched[facet.docnums]], minlength=len(facet.values))
        for code in np.flatnonzero(per_value).tolist():
            value = facet.values[code]
            counted[value] = counted.get(value, 0) + int(per_value[code])

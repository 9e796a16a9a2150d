"""rank() ranks over arrays of each segment's documents: the same documents, order and scores as
Whoosh's own searcher, across segments and deletions, with ties, phrases, filters, dates and facets;
and a postings list read block by block is the one Whoosh's matcher reads."""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from whoosh import query
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.searching import Searcher

from search.documents import SearchDocument
from search.engine import Reader, SearchRequest
from search.query import Synonyms, with_synonyms
from search.whoosh_engine import WhooshEngine
from search.whoosh_index import BLOCK_START, IndexFolder, fields_of, postings, term_matcher
from search.whoosh_ranking import _phrase_docnums, _PostingsCache, docs, rank

SYNONYMS = Path(__file__).resolve().parent.parent / "search" / "synonyms.txt"
WORDS = [
    *("database", "connection", "pool", "exhausted", "error", "rate", "http", "500", "502", "latency", "slow"),
    *("disk", "full", "certificate", "expired", "queue", "consumers", "stalled", "deploy", "rollback", "load"),
    *("balancer", "dns", "resolver", "timeout", "retry", "cache", "memory"),
]
SERVICES = ["checkout", "edge", "search", "billing", "auth"]
# Documents written once, then twice more in segments of their own (the first copies deleted).
DOCUMENTS = 700
REWRITTEN = (3, 150, 420, 699)
FACETS = ["service", "team", "severity", "year", "category", "tag", "type"]


def document(n: int) -> SearchDocument:
    """The n-th document: a few sentences of a small vocabulary (so that scores tie and words repeat);
    every 50th is the same as the one before it but for its key, and "cache" is in every 300th only."""
    source = n - 1 if n % 50 == 1 else n
    same = random.Random(source)
    words = same.choices([w for w in WORDS if w != "cache"], k=same.randint(8, 40))
    if source % 300 == 0:
        words.append("cache")
    started = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=source % 97)  # dates tie too
    text = " ".join(words)
    return SearchDocument(
        key=f"incident:{n}",
        type="postmortem" if n % 4 else "incident",
        incident_id=n,
        postmortem_id=n if n % 4 else None,
        title=" ".join(words[:5]),
        summary=text[: len(text) // 2],
        impact="",
        factors=" ".join(reversed(words)),
        lessons="",
        countermeasures="",
        body=text,
        alerts="",
        services=tuple(SERVICES[(source + k) % len(SERVICES)] for k in range(1 + source % 2)),
        teams=(f"team-{source % 3}",),
        tags=("network",) if source % 5 == 0 else (),
        categories=("detection",),
        severity=f"SEV{1 + source % 4}",
        year=started.year,
        date=started,
        published_at=None,
        restricted=False,
        reader_ids=(),
        source_id=None,
        digest=str(n),
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> WhooshEngine:
    documents = [document(n) for n in range(DOCUMENTS)]
    engine = WhooshEngine(IndexFolder(tmp_path_factory.mktemp("index")), Synonyms.load([SYNONYMS]))
    engine.rebuild(documents)
    for _ in range(2):
        writer = engine.folder.current().writer()
        for n in REWRITTEN:
            writer.update_document(**fields_of(documents[n]))
        writer.commit(merge=False)
    return engine


@pytest.fixture
def searcher(engine: WhooshEngine) -> Iterator[Searcher]:
    with engine.folder.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 3 and searcher.reader().has_deletions()
        yield searcher


def queries(engine: WhooshEngine) -> list[query.Query]:
    """Plain words over every field with synonyms (which bring phrases), phrases of two and three
    words with boosts, one with a word no document holds, a term of a field scored by its weight,
    an AND, and every document."""
    return [
        with_synonyms(engine._parse(text)[0], engine.synonyms)
        for text in ["database errors slow", "certificate expired cache", "queue consumers stalled retry"]
    ] + [
        query.Or(
            [
                query.Phrase("content", ["connect", "pool"], boost=1.5),
                query.Phrase("content", ["disk", "full", "certif"]),
                query.Phrase("title", ["error", "rate"], boost=0.5),
                query.Phrase("content", ["error", "nowher"]),
                query.Term("category", "detection", boost=3.0),
                query.Term("service", "edge", boost=2.0),
            ]
        ),
        query.Or(
            [query.Term("content", "cach"), query.And([query.Term("title", "dns"), query.Term("title", "retri")])]
        ),
        query.Every(),
    ]


def test_the_ranking_is_whooshs_across_segments_deletions_ties_and_phrases(
    engine: WhooshEngine, searcher: Searcher
) -> None:
    for wanted in queries(engine):
        theirs = searcher.search(wanted, limit=None)
        ours = rank(searcher, wanted, limit=None)
        assert ours.total == len(theirs) > 0
        assert [docnum for docnum, _score in ours.top] == [hit.docnum for hit in theirs]
        for (_docnum, score), hit in zip(ours.top, theirs, strict=True):
            assert math.isclose(score, hit.score, rel_tol=1e-9)
        scores = [score for _docnum, score in ours.top]
        assert len(set(scores)) < len(scores)  # there are ties, ordered by docnum as Whoosh does
        for limit in (1, 7, 40):
            assert rank(searcher, wanted, limit=limit).top == ours.top[:limit]
            assert [hit.docnum for hit in searcher.search(wanted, limit=limit)] == [d for d, _s in ours.top[:limit]]


def test_a_phrase_is_where_its_words_follow_each_other_as_whoosh_finds_it(searcher: Searcher) -> None:
    for words in (["connect", "pool"], ["disk", "full", "certif"], ["error", "rate"], ["pool", "pool"], ["slow"]):
        theirs = set(searcher.docs_for_query(query.Phrase("content", words)))
        ours = set()
        for subsearcher, offset in searcher.leaf_searchers():
            reader = subsearcher.reader()
            texts = [word.encode() for word in words]
            ours.update(
                d + offset for d in _phrase_docnums(reader, "content", texts).tolist() if not reader.is_deleted(d)
            )
        assert ours == theirs and theirs


def test_denied_and_required_documents_are_left_out_as_whooshs_mask_and_filter_leave_them(
    engine: WhooshEngine, searcher: Searcher
) -> None:
    everyone = set(range(searcher.doc_count_all()))
    denied = set(random.Random(3).sample(sorted(everyone), 200))
    required = docs(searcher, query.Term("type", "postmortem"))
    for wanted in queries(engine):
        theirs = searcher.search(wanted, limit=None, filter=required, mask=denied)
        ours = rank(searcher, wanted, denied=denied, required=required, limit=None)
        assert ours.total == len(theirs)
        assert [docnum for docnum, _score in ours.top] == [hit.docnum for hit in theirs]
    assert rank(searcher, query.Every(), required=set()).total == 0


def test_newest_first_then_the_last_indexed_first(engine: WhooshEngine, searcher: Searcher) -> None:
    wanted = queries(engine)[0]
    found = [docnum for docnum, _score in rank(searcher, wanted, limit=None).top]
    dates = {docnum: searcher.stored_fields(docnum)["date"] for docnum in found}
    newest = sorted(found, key=lambda docnum: (dates[docnum], docnum), reverse=True)
    ours = rank(searcher, wanted, limit=None, by_date=True)
    assert [docnum for docnum, _score in ours.top] == newest
    assert len(set(dates.values())) < len(dates)
    assert rank(searcher, wanted, limit=25, by_date=True).top == ours.top[:25]


def test_facets_count_the_values_of_the_documents_found(engine: WhooshEngine, searcher: Searcher) -> None:
    denied = set(range(0, searcher.doc_count_all(), 7))
    for wanted in queries(engine):
        ours = rank(searcher, wanted, denied=denied, limit=3, facets=FACETS)
        found = [hit.docnum for hit in searcher.search(wanted, limit=None, mask=denied)]
        for name in FACETS:
            counted: Counter[str] = Counter()
            for docnum in found:
                stored = searcher.stored_fields(docnum)[name]
                counted.update(stored.split(",") if name in ("service", "team", "tag", "category") else [stored])
            assert ours.facets[name] == {value: n for value, n in counted.items() if value}


def test_a_postings_list_read_block_by_block_is_the_one_whooshs_matcher_reads(searcher: Searcher) -> None:
    """Every term of every field: its docnums and weights, the deleted documents too."""
    blocks = 0
    for subsearcher, _offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)  # without the deleted documents
            ids, weights = [], []
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                matcher.next()
            found = postings(reader, fieldname, text)
            assert found is not None
            live = [not reader.is_deleted(d) for d in found[0].tolist()]
            assert found[0][live].tolist() == ids and found[1][live].tolist() == weights, (fieldname, text)
            blocks += isinstance(term_matcher(reader, fieldname, text), W3LeafMatcher)
    assert blocks > 100
    first = searcher.leaf_searchers()[0][0].reader()
    assert [first.is_deleted(d) for d in postings(first, "key", "incident:3")[0].tolist()] == [True]
    assert postings(first, "content", "nowher") is None


def test_a_blocks_docnums_and_weights_are_read_without_its_positions(searcher: Searcher) -> None:
    """The pickle's start is found by its expression for every block of the index: none is unpickled whole."""
    shapes = set()
    for subsearcher, _offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        for fieldname, text in reader.all_terms():
            matcher = term_matcher(reader, fieldname, text)
            while isinstance(matcher, W3LeafMatcher) and matcher.is_active():
                data = matcher._postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
                if matcher._compression:
                    data = zlib.decompress(data)
                assert BLOCK_START.match(data) is not None, (fieldname, text)
                matcher._read_data()
                deltas, weights, _values = matcher._data
                shapes.add((min(len(deltas), 4), max(deltas) > 255, type(weights).__name__))
                matcher._next_block()
    # Short and long blocks, small and large gaps, weights all 1, all equal and not.
    assert {(1, False, "NoneType"), (2, False, "tuple"), (4, False, "tuple"), (4, True, "tuple")} <= shapes
    assert {"NoneType", "float", "tuple"} <= {shape[2] for shape in shapes}


def test_postings_kept_decoded_stay_true_as_segments_come_and_go(tmp_path: Path) -> None:
    folder = IndexFolder(tmp_path / "index")
    folder.write([document(n) for n in range(1, 41)], [])
    engine = WhooshEngine(folder, Synonyms.load([SYNONYMS]))
    reader_all = Reader(user_id=1, is_admin=True)
    before = engine.search(SearchRequest(q="disk", limit=50), reader_all)
    again = engine.search(SearchRequest(q="disk", limit=50), reader_all)  # read from the kept postings
    assert [h.incident_id for h in again.hits] == [h.incident_id for h in before.hits] and before.total > 0
    # A new segment holds new postings of the same word; the deleted copy's are left out.
    folder.write([document(41), *(SearchDocument(**{**vars(document(1)), "body": "zzzunique"}),)], ["incident:2"])
    after = engine.search(SearchRequest(q="disk", limit=50), reader_all)
    expected = {h.incident_id for h in before.hits} - {2} | ({41} if "disk" in document(41).body else set())
    assert {h.incident_id for h in after.hits} == expected
    assert engine.search(SearchRequest(q="zzzunique", limit=5), reader_all).total == 1


def test_the_kept_postings_stay_within_their_bytes(tmp_path: Path) -> None:
    folder = IndexFolder(tmp_path / "index")
    folder.write([document(n) for n in range(1, 201)], [])
    kept = _PostingsCache(max_bytes=8_000)
    with folder.searcher() as searcher:
        reader = searcher.reader()
        for word in WORDS:
            found = kept.postings(reader, "body", word.encode())
            direct = postings(reader, "body", word.encode())
            assert (found is None) == (direct is None)
            if found is not None and direct is not None:
                assert found[0].tolist() == direct[0].tolist() and found[1].tolist() == direct[1].tolist()
                assert not found[0].flags.writeable
        assert kept._bytes <= 8_000

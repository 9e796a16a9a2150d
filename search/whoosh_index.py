"""The embedded Whoosh index on local disk: its schema, its one writer, searchers, and rebuilding aside.

The index folder (KINTSUGI_SEARCH_INDEX, default instance/search) holds generations of the index,
one folder each, and a file CURRENT naming the one in use. A rebuild writes a new generation and
then replaces CURRENT in one rename, so searches go on against the old one until the new one is
whole, and a rebuild killed halfway leaves the old one in use. Only the outbox worker and the
rebuild write (Whoosh allows one writer an index; web requests only read). A searcher is reused
until the index changes; then a new one is opened, never `refresh()`ed: whoosh-reloaded 2.7.5's
refresh after a merging commit returns every document of the merged segments twice. An index
written by an older version with other fields is not opened (OutdatedIndex, which says to run
`flask search reindex`): searches and the outbox worker fail with that message until it is rebuilt,
and the outbox keeps every change meanwhile. A term's postings in a segment are read here as arrays,
block by block, for ranking.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import threading
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import index
from whoosh.analysis import Analyzer, StandardAnalyzer
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.matching.wrappers import FilterMatcher
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from .documents import SearchDocument
from .engine import IndexOutdated
from .query import TEXT_FIELDS, analyzer

CURRENT = "CURRENT"
# Text shown in a hit's fragments but searched only as part of `content` (every word of a document,
# one field): a word is then a few postings lists to score, not one a section.
SHOWN_ONLY = ("impact", "lessons", "body")
WRITE_TIMEOUT_SECONDS = 30.0
# Generations older than the one in use are deleted by the next rebuild, which may find a searcher of
# another process still reading one it replaced a moment ago: it keeps the previous generation too.
KEEP_GENERATIONS = 2


def schema() -> Schema:
    """The fields of a document: text searched and highlighted, facets, filters and what a hit shows."""
    text = {name: TEXT(analyzer=analyzer(), stored=name != "content") for name in TEXT_FIELDS}
    return Schema(
        key=ID(unique=True, stored=True),
        type=ID(stored=True),
        incident_id=NUMERIC(int, bits=64, stored=True),
        postmortem_id=STORED,
        service=KEYWORD(commas=True, lowercase=True, stored=True, scorable=True),
        team=KEYWORD(commas=True, lowercase=True, stored=True, scorable=True),
        tag=KEYWORD(commas=True, lowercase=True, stored=True, scorable=True),
        category=KEYWORD(commas=True, lowercase=True, stored=True),
        severity=ID(stored=True),
        year=ID(stored=True),
        date=DATETIME(stored=True, sortable=True),
        published_at=STORED,
        restricted=BOOLEAN(stored=True),
        readers=KEYWORD(),
        source_id=STORED,
        digest=STORED,
        # Every word as written (not stemmed), for "did you mean": which words, not where.
        words=TEXT(analyzer=analyzer_unstemmed(), phrase=False),
        **{name: STORED() for name in SHOWN_ONLY},
        **text,
    )


def outdated(found: Schema) -> bool:
    """Whether an index was written with other fields than today's (by an older version): it must be
    rebuilt (`flask search reindex`) before it can be searched or written."""
    wanted = schema()
    return sorted(found.names()) != sorted(wanted.names()) or any(
        type(found[name]) is not type(wanted[name]) for name in wanted.names()
    )


class OutdatedIndex(IndexOutdated):
    """The index in use was written by an older version with other fields."""


def analyzer_unstemmed() -> Analyzer:
    """Words in lower case, as written: the dictionary of "did you mean"."""
    return StandardAnalyzer(stoplist=None, minsize=2)


def fields_of(document: SearchDocument) -> dict[str, object]:
    """A document as Whoosh stores it."""
    labels = "\n".join([*document.services, *document.teams, *document.tags])
    every = "\n".join(
        [
            document.title,
            document.summary,
            document.factors,
            document.impact,
            document.countermeasures,
            document.lessons,
            document.body,
            document.alerts,
            labels,
        ]
    )
    text = {name: every if name == "content" else getattr(document, name) for name in TEXT_FIELDS}
    return {
        "key": document.key,
        "type": document.type,
        "incident_id": document.incident_id,
        "postmortem_id": document.postmortem_id,
        "service": ",".join(document.services),
        "team": ",".join(document.teams),
        "tag": ",".join(document.tags),
        "category": ",".join(document.categories),
        "severity": document.severity,
        "year": str(document.year),
        "date": document.date.replace(tzinfo=None),
        "published_at": document.published_at,
        "restricted": document.restricted,
        "readers": " ".join(str(reader) for reader in document.reader_ids),
        "source_id": document.source_id,
        "digest": document.digest,
        "words": every,
        **{name: getattr(document, name) for name in SHOWN_ONLY},
        **text,
    }


class IndexFolder:
    """The index's folder: which generation is in use, opening it, writing it, rebuilding it aside."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._opened: dict[str, index.Index] = {}
        self._local = threading.local()

    def current(self) -> index.Index:
        """The generation in use (an empty one is made on first use)."""
        name = self._current_name() or self._first_generation()
        with self._lock:
            if name not in self._opened:
                opened = index.open_dir(str(self.root / name))
                if outdated(opened.schema):
                    raise OutdatedIndex(
                        f"The search index {self.root / name} was written by an older version of Kintsugi "
                        "with other fields: rebuild it with `flask search reindex`."
                    )
                self._opened = {name: opened}
            return self._opened[name]

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A searcher of the generation in use, reused by this thread until the index changes."""
        ix = self.current()
        held: Searcher | None = getattr(self._local, "searcher", None)
        if held is None or held.up_to_date() is False or getattr(self._local, "index", None) is not ix:
            if held is not None:
                held.close()
            held = self._local.searcher = ix.searcher()
            self._local.index = ix
        yield held

    def write(self, documents: Sequence[SearchDocument], removed_keys: Sequence[str]) -> None:
        """Replace these documents and delete those keys in the generation in use, in one commit."""
        writer: IndexWriter = self.current().writer(timeout=WRITE_TIMEOUT_SECONDS)
        try:
            for key in removed_keys:
                writer.delete_by_term("key", key)
            for document in documents:
                writer.update_document(**fields_of(document))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, documents: Iterable[SearchDocument], *, procs: int = 1) -> int:
        """Write a new generation from these documents, then use it; how many were written."""
        name = self._new_generation()
        ix = index.create_in(str(self.root / name), schema())
        writer = ix.writer(procs=procs, limitmb=256, multisegment=procs > 1)
        count = 0
        try:
            for document in documents:
                writer.add_document(**fields_of(document))
                count += 1
        except BaseException:
            writer.cancel()
            shutil.rmtree(self.root / name, ignore_errors=True)
            raise
        writer.commit()
        self._point_to(name)
        self._forget_old(keep=name)
        return count

    def _first_generation(self) -> str:
        """Make the first, empty generation: one process does, the others wait for it."""
        self.root.mkdir(parents=True, exist_ok=True)
        claim = self.root / "CREATING"
        try:
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return self._wait_for_first(claim)
        try:
            name = self._new_generation()
            index.create_in(str(self.root / name), schema())
            self._point_to(name)
        finally:
            claim.unlink(missing_ok=True)
        return name

    def _wait_for_first(self, claim: Path) -> str:
        deadline = time.monotonic() + WRITE_TIMEOUT_SECONDS
        while (name := self._current_name()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{claim} stayed without an index for {WRITE_TIMEOUT_SECONDS:.0f} s: remove it")
            time.sleep(0.05)
        return name

    def _current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name).is_dir() else None

    def _new_generation(self) -> str:
        name = f"generation-{uuid.uuid4().hex[:12]}"
        (self.root / name).mkdir(parents=True)
        return name

    def _point_to(self, name: str) -> None:
        pointer = self.root / f"{CURRENT}.{uuid.uuid4().hex[:8]}"
        pointer.write_text(name + "\n", encoding="utf-8")
        os.replace(pointer, self.root / CURRENT)

    def _forget_old(self, keep: str) -> None:
        generations = sorted(
            (p for p in self.root.glob("generation-*") if p.is_dir() and p.name != keep),
            key=lambda p: p.stat().st_mtime,
        )
        for old in generations[: max(0, len(generations) - (KEEP_GENERATIONS - 1))]:
            shutil.rmtree(old, ignore_errors=True)


# Reading a segment's postings in bulk, for ranking (whoosh_ranking): the blocks of whoosh-reloaded
# 2.7.5 (pinned) are read directly, any other matcher through its public methods.

# The start of a postings block as whoosh3 pickles it (protocol 2): a tuple of its docnums' deltas,
# then its weights (None when all are 1, one float when all are equal, else a tuple of floats), then
# the postings' values, which hold positions and are most of the block. Ints are K/M/J with one, two
# or four bytes, floats G with eight; a tuple of more than three opens with "(" and closes with "t",
# a shorter one closes with one of \x85-\x87; a tuple may be memoized (q, r).
_MEMO = rb"(?:q.|r....)?"
_INTS = rb"(?:\((?:K.|M..|J....)*t|(?:K.|M..|J....){1,3}[\x85-\x87])" + _MEMO
_FLOATS = rb"(?:\((?:G.{8})*t" + _MEMO + rb"|(?:G.{8}){1,3}[\x85-\x87]" + _MEMO + rb"|N|G.{8})"
BLOCK_START = re.compile(rb"\x80\x02" + _INTS + _FLOATS, re.DOTALL)
_TUPLE2_STOP = b"\x86."


def positions(reader: Any, fieldname: str, text: bytes) -> tuple[npt.NDArray[np.int64], list[bytes]]:
    """A term's docnums in a segment (deleted documents included) and its postings' encoded positions."""
    matcher = term_matcher(reader, fieldname, text)
    ids: list[int] = []
    values: list[bytes] = []
    while matcher.is_active():
        if isinstance(matcher, W3LeafMatcher):
            matcher._read_ids()
            matcher._read_values()
            ids.extend(matcher._ids)
            values.extend(matcher._values)
            matcher._next_block()
        else:
            ids.append(matcher.id())
            values.append(matcher.value())
            matcher.next()
    return np.array(ids, dtype=np.int64), values


def term_matcher(reader: Any, fieldname: str, text: bytes) -> Any:
    """A term's postings matcher in a segment, deleted documents included (callers drop them)."""
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
        matcher.reset()  # the filter has moved it past the deleted documents it starts with
    return matcher


def postings(reader: Any, fieldname: str, text: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """A term's postings in a segment (docnums ascending, and their weights), deleted documents
    included; None when the segment does not hold it."""
    if fieldname not in reader.schema:
        return None
    if not isinstance(text, bytes):
        try:
            text = reader.schema[fieldname].to_bytes(text)
        except ValueError:
            return None
    if (fieldname, text) not in reader:
        return None
    matcher = term_matcher(reader, fieldname, text)
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids:
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)
    # Every block's deltas one after the other: each block's first is its first docnum, made a delta
    # from the last docnum of the block before it, so that one running sum gives every docnum.
    deltas: list[int] = []
    all_weights: list[float] = []
    starts: list[int] = []
    lasts: list[int] = []
    last = 0
    while matcher.is_active():
        block_deltas, block_weights = _block(matcher)
        starts.append(len(deltas))
        lasts.append(last)
        deltas.extend(block_deltas)
        count = matcher._blocklength
        if block_weights is None:
            all_weights.extend(repeat(1.0, count))
        elif isinstance(block_weights, float):
            all_weights.extend(repeat(block_weights, count))
        else:
            all_weights.extend(block_weights)
        last = matcher._maxid
        matcher._next_block()
    running = np.array(deltas, dtype=np.int64)
    running[np.array(starts, dtype=np.int64)] -= np.array(lasts, dtype=np.int64)
    return np.cumsum(running), np.array(all_weights, dtype=np.float64)


def _block(matcher: W3LeafMatcher) -> tuple[Sequence[int], Any]:
    """The block a matcher is on: its docnums' deltas and its weights, as whoosh3 writes them,
    unpickling only those (a block's positions are most of its pickle) when it reads as expected."""
    data = matcher._postfile.get(matcher._dataoffset, matcher._nextoffset - matcher._dataoffset)
    if matcher._compression:
        data = zlib.decompress(data)
    start = BLOCK_START.match(data)
    if start is not None:
        deltas, weights = pickle.loads(data[: start.end()] + _TUPLE2_STOP)
        count = matcher._blocklength
        if len(deltas) == count and (not isinstance(weights, tuple) or len(weights) == count):
            return deltas, weights
    deltas, weights, _values = pickle.loads(data)
    return deltas, weights

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
and the outbox keeps every change meanwhile.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from whoosh import index
from whoosh.analysis import Analyzer, StandardAnalyzer
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
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

"""The library's use cases: keep the index in step with the incidents (through the outbox), search it,
find similar post-mortems, rebuild it and check it against the database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.orm import Session

from incidents.events import ActionItemChanged, Event
from incidents.library import (
    incident_ids_in_batches,
    incident_ids_of_postmortems,
    incident_records,
    visible_record,
)
from incidents.models import User

from .documents import SearchDocument, document_of, key_of
from .engine import Engine, Hit, IndexOutdated, Reader, SearchRequest, SearchResults

EXTENSION = "kintsugi.search"
log = logging.getLogger(__name__)
SIMILAR_LIMIT = 5


def engine_of(app: Flask) -> Engine:
    """The app's search engine (set up by init_app)."""
    found: Engine = app.extensions[EXTENSION]
    return found


def reader_of(viewer: User) -> Reader:
    """Who is searching, as the engine filters by."""
    return Reader(user_id=viewer.id, is_admin=viewer.is_admin)


def index_changes(session: Session, events: Sequence[Event]) -> None:
    """Bring the documents of the incidents these events touched up to date (the outbox's handler)."""
    incident_ids = {i for e in events if (i := getattr(e, "incident_id", None)) is not None}
    postmortems = [e.postmortem_id for e in events if isinstance(e, ActionItemChanged)]
    incident_ids.update(incident_ids_of_postmortems(session, postmortems).values())
    if not incident_ids:
        return
    documents = documents_of(session, sorted(incident_ids))
    found = {d.incident_id for d in documents}
    session.rollback()  # only read: end the transaction so that a SQLite writer is not kept waiting
    try:
        engine_of(current_app).write(documents, [key_of(i) for i in incident_ids if i not in found])
    except IndexOutdated:
        # After an upgrade that changed the index's fields: the one writer builds it anew, with these.
        log.warning("the search index was written by an older version: rebuilding it from the database")
        rebuild(session)


def documents_of(session: Session, incident_ids: Sequence[int]) -> list[SearchDocument]:
    """The documents of these incidents, as the database has them now."""
    return [document_of(record) for record in incident_records(session, incident_ids)]


def search(viewer: User, request: SearchRequest) -> SearchResults:
    """A page of results for the viewer."""
    return engine_of(current_app).search(request, reader_of(viewer))


def similar_to_incident(session: Session, *, viewer: User, incident_id: int, limit: int = SIMILAR_LIMIT) -> list[Hit]:
    """Published post-mortems of other incidents most like this one; NotFound if the viewer may not see it."""
    record = visible_record(session, viewer=viewer, incident_id=incident_id)
    pm = record.postmortem
    text = "\n".join(
        [
            record.title,
            record.summary,
            *record.alert_names,
            *record.key_moments,
            *((f.text for f in pm.factors) if pm else ()),
        ]
    )
    session.rollback()
    return engine_of(current_app).similar(
        text, record.services, reader_of(viewer), exclude_key=key_of(incident_id), limit=limit
    )


def similar_with_countermeasures(
    session: Session, *, viewer: User, incident_id: int, limit: int = SIMILAR_LIMIT
) -> list[tuple[Hit, list[tuple[str, str]]]]:
    """Similar post-mortems, each with its countermeasures as (title, status)."""
    hits = similar_to_incident(session, viewer=viewer, incident_id=incident_id, limit=limit)
    records = {r.incident_id: r for r in incident_records(session, [hit.incident_id for hit in hits])}
    session.rollback()
    found = []
    for hit in hits:
        pm = records[hit.incident_id].postmortem if hit.incident_id in records else None
        found.append((hit, [(c.title, c.status) for c in pm.countermeasures] if pm else []))
    return found


def similar_to_text(viewer: User, *, text: str, services: Sequence[str], limit: int = SIMILAR_LIMIT) -> list[Hit]:
    """Published post-mortems most like a description (and these services)."""
    return engine_of(current_app).similar(text, services, reader_of(viewer), exclude_key=None, limit=limit)


@dataclass
class CheckReport:
    """How the index compares with the database: documents missing, stale, or of incidents gone."""

    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def clean(self) -> bool:
        """Nothing to repair."""
        return not (self.missing or self.stale or self.extra)


def check(session: Session, *, repair: bool, batch: int = 500) -> CheckReport:
    """Compare every incident's document with the index; with repair, write what differs."""
    engine = engine_of(current_app)
    indexed = engine.digests()
    report = CheckReport()
    seen: set[str] = set()
    for ids in incident_ids_in_batches(session, batch):
        documents = documents_of(session, ids)
        session.rollback()
        wrong = []
        for document in documents:
            seen.add(document.key)
            digest = indexed.get(document.key)
            if digest != document.digest:
                (report.missing if digest is None else report.stale).append(document.incident_id)
                wrong.append(document)
        report.checked += len(documents)
        if repair and wrong:
            engine.write(wrong, [])
    report.extra = sorted(set(indexed) - seen)
    if repair and report.extra:
        engine.write([], report.extra)
    return report


def rebuild(session: Session, *, progress: Callable[[int], None] = lambda _n: None, batch: int = 500) -> int:
    """Build the index anew from the database beside the one in use, swap it in, then repair what
    changed while it was built; how many documents it holds."""

    def documents() -> Iterator[SearchDocument]:
        for ids in incident_ids_in_batches(session, batch):
            found = documents_of(session, ids)
            session.rollback()
            yield from found
            progress(len(ids))

    count = engine_of(current_app).rebuild(documents())
    check(session, repair=True, batch=batch)
    return count

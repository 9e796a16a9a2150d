"""Use cases on an incident's timeline: record, correct and delete entries. One transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import validation
from .access import ensure_can_see, ensure_can_write
from .actors import Actor, actor_id, ensure_can_act, text_of
from .errors import Conflict, InvalidInput, NotFound
from .events import TimelineEntriesRecorded, TimelineEntryCorrected, TimelineEntryDeleted, record_event
from .models import (
    NAME_MAX,
    TEXT_MAX,
    EntryKind,
    Incident,
    IncidentRole,
    RevisionChange,
    Source,
    TimelineEntry,
    TimelineEntryRevision,
    User,
    utcnow,
)
from .service import EXTERNAL_ID_MAX, UNSET, change


@dataclass(frozen=True)
class NewEntry:
    """One entry to record: what happened and when, told by whom (a name in someone else's words)."""

    text: str
    occurred_at: datetime | None = None
    kind: EntryKind = EntryKind.NOTE
    evidence_url: str | None = None
    is_key_moment: bool = False
    external_id: str | None = None
    actor_name: str | None = None


def record_entries(
    session: Session, incident: Incident, *, actor: Actor, source: Source, entries: Sequence[NewEntry]
) -> list[TimelineEntry]:
    """Add entries to an incident's timeline, without committing: the core every path calls.

    Emits one event for them all. The caller has checked who may write and that no entry's
    (source, external_id) is recorded already; the unique key refuses a twin all the same.
    """
    ensure_can_act(actor)
    now = utcnow()
    added = []
    for new in entries:
        external_id = new.external_id
        if external_id is not None:
            external_id = validation.text(external_id, field="external_id", limit=EXTERNAL_ID_MAX) or None
        entry = TimelineEntry(
            incident_id=incident.id,
            occurred_at=validation.past_time(new.occurred_at, field="occurred_at") if new.occurred_at else now,
            recorded_at=now,
            source=source,
            kind=new.kind,
            actor_id=actor_id(actor),
            actor_name=validation.text(new.actor_name or actor.name, field="actor_name", limit=NAME_MAX),
            text=text_of(actor, new.text, field="text", limit=TEXT_MAX, required=True),
            evidence_url=validation.link(new.evidence_url, field="evidence_url"),
            is_key_moment=new.is_key_moment,
            external_id=external_id,
        )
        session.add(entry)
        added.append(entry)
    if added:
        session.flush()
        record_event(
            session,
            TimelineEntriesRecorded(incident_id=incident.id, entry_ids=tuple(e.id for e in added), source=source.value),
        )
    return added


def record_timeline_entry(
    session: Session,
    *,
    actor: User,
    incident_id: int,
    text: str,
    occurred_at: datetime | None = None,
    kind: EntryKind = EntryKind.NOTE,
    source: Source = Source.WEB,
    evidence_url: str | None = None,
    is_key_moment: bool = False,
    external_id: str | None = None,
    actor_name: str | None = None,
) -> tuple[TimelineEntry, bool]:
    """Add an entry; a second delivery of the same (source, external_id) returns the first, unchanged.

    Returns the entry and whether it was created now.
    """
    ensure_can_write(actor)
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    if external_id is not None:
        external_id = validation.text(external_id, field="external_id", limit=EXTERNAL_ID_MAX) or None
    if external_id is not None:
        existing = _by_external_id(session, source, external_id, incident.id)
        if existing is not None:
            return existing, False
    new = NewEntry(
        text=text,
        occurred_at=occurred_at,
        kind=kind,
        evidence_url=evidence_url,
        is_key_moment=is_key_moment,
        external_id=external_id,
        actor_name=actor_name,
    )
    try:
        (entry,) = record_entries(session, incident, actor=actor, source=source, entries=[new])
        if not incident.holders(IncidentRole.COMMANDER) and actor_name in (None, "", actor.name):
            # The first person to act on an incident an alert declared takes command (not one writing
            # in someone else's name, as an import does).
            change(session, incident, actor=actor, source=source, changes={})
        session.commit()
    except IntegrityError:
        # A concurrent delivery of the same event won the race: answer with its entry.
        session.rollback()
        existing = _by_external_id(session, source, external_id, incident_id) if external_id else None
        if existing is None:
            raise
        return existing, False
    return entry, True


def correct_timeline_entry(
    session: Session, *, actor: User, incident_id: int, entry_id: int, **changes: Any
) -> TimelineEntry:
    """Correct an entry's text, time, kind, link or key-moment flag, keeping what it said before."""
    ensure_can_write(actor)
    entry = _entry(session, actor, incident_id, entry_id)
    if revise_entry(session, entry, actor=actor, changes=changes):
        session.commit()
    else:
        session.rollback()
    return entry


def revise_entry(session: Session, entry: TimelineEntry, *, actor: Actor, changes: dict[str, Any]) -> bool:
    """Correct an entry without committing, keeping what it said before; whether anything changed."""
    ensure_can_act(actor)
    if entry.deleted_at is not None:
        raise Conflict("a deleted entry cannot be corrected")
    allowed = {"text", "occurred_at", "kind", "evidence_url", "is_key_moment"}
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"unknown field {name}", field=name)
    before = entry.snapshot()
    if changes.get("text", UNSET) is not UNSET:
        entry.text = text_of(actor, changes["text"], field="text", limit=TEXT_MAX, required=True)
    if changes.get("occurred_at", UNSET) is not UNSET:
        if changes["occurred_at"] is None:
            raise InvalidInput("occurred_at cannot be cleared", field="occurred_at")
        entry.occurred_at = validation.past_time(changes["occurred_at"], field="occurred_at")
    if changes.get("kind", UNSET) is not UNSET:
        entry.kind = changes["kind"]
    if changes.get("evidence_url", UNSET) is not UNSET:
        entry.evidence_url = validation.link(changes["evidence_url"], field="evidence_url")
    if changes.get("is_key_moment", UNSET) is not UNSET:
        entry.is_key_moment = bool(changes["is_key_moment"])
    if entry.snapshot() == before:
        return False
    now = utcnow()
    entry.edited_at = now
    entry.revisions.append(
        TimelineEntryRevision(
            change=RevisionChange.CORRECTION, revised_at=now, revised_by_id=actor_id(actor), before=before
        )
    )
    record_event(
        session, TimelineEntryCorrected(incident_id=entry.incident_id, entry_id=entry.id, actor_id=actor_id(actor))
    )
    return True


def delete_timeline_entry(session: Session, *, actor: User, incident_id: int, entry_id: int) -> TimelineEntry:
    """Hide an entry from the timeline; it stays stored with who deleted it and when."""
    ensure_can_write(actor)
    entry = _entry(session, actor, incident_id, entry_id)
    remove_entry(session, entry, actor=actor)
    session.commit()
    return entry


def remove_entry(session: Session, entry: TimelineEntry, *, actor: Actor) -> None:
    """Hide an entry, without committing: kept with who deleted it and when, and what it said."""
    ensure_can_act(actor)
    if entry.deleted_at is not None:
        return
    now = utcnow()
    entry.deleted_at = now
    entry.deleted_by_id = actor_id(actor)
    entry.revisions.append(
        TimelineEntryRevision(
            change=RevisionChange.DELETION, revised_at=now, revised_by_id=actor_id(actor), before=entry.snapshot()
        )
    )
    record_event(
        session, TimelineEntryDeleted(incident_id=entry.incident_id, entry_id=entry.id, actor_id=actor_id(actor))
    )


def _entry(session: Session, actor: User, incident_id: int, entry_id: int) -> TimelineEntry:
    ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    entry = session.get(TimelineEntry, entry_id)
    if entry is None or entry.incident_id != incident_id:
        raise NotFound(f"timeline entry {entry_id} not found in incident {incident_id}")
    return entry


def _by_external_id(session: Session, source: Source, external_id: str, incident_id: int) -> TimelineEntry | None:
    existing = session.scalar(
        select(TimelineEntry).where(TimelineEntry.source == source, TimelineEntry.external_id == external_id)
    )
    if existing is not None and existing.incident_id != incident_id:
        # Said the same whoever holds it: the holder may be an incident the caller may not see, and
        # its id, title or very existence is not theirs to learn.
        raise Conflict(
            f"external_id {external_id!r} is taken for {source.value} events: choose another", field="external_id"
        )
    return existing

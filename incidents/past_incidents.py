"""Record an incident of the past with its published post-mortem: one use case, one transaction.

An incident reviewed and written up elsewhere (an imported Markdown report; later perhaps the API)
arrives as a plain `PastIncident`. Recording it goes through the same cores as every other path
(declare, change, record_entries, start, write_section, add_factor, add_item, publish), so it is
validated, told on the timeline and announced through the outbox like any change. Its `key` (the
document's own id) keys the declared entry: recording the same key again brings the incident in line
with the record and adds nothing twice, and recording it unchanged changes nothing at all.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .accounts.service import user_by_email
from .actors import Actor, cut
from .errors import Conflict
from .models import KEY_TIMES, EntryKind, Incident, Source, Status, TimelineEntry, Visibility, utcnow
from .postmortems.items import add_factor, add_item, change_item, remove_factor
from .postmortems.models import (
    TEAM_MAX,
    ActionItem,
    ActionPriority,
    ActionStatus,
    ActionType,
    Postmortem,
    ReviewStatus,
)
from .postmortems.service import agree, publish, reopen, start, write_section
from .service import EXTERNAL_ID_MAX, change, declare
from .timeline import NewEntry, record_entries, remove_entry

GONE = "No longer in the recorded report."


@dataclass(frozen=True)
class PastEntry:
    """A moment of the record's timeline, at a known instant (a row without one is no entry); None
    places it at the incident's start (a link to the original report)."""

    text: str
    occurred_at: datetime | None
    kind: EntryKind = EntryKind.NOTE
    is_key_moment: bool = False
    evidence_url: str | None = None


@dataclass(frozen=True)
class PastActionItem:
    """An action item as the record states it; its owner as written: an account's email owns it, any
    other name or handle is kept as text (as a team would be)."""

    title: str
    owner: str | None = None
    due_on: date | None = None
    priority: ActionPriority = ActionPriority.COUNTERMEASURE
    type: ActionType = ActionType.PREVENT
    status: ActionStatus = ActionStatus.OPEN
    ticket_url: str | None = None


@dataclass(frozen=True)
class PastIncident:
    """An incident reviewed elsewhere: what it was, when, what its review found and decided."""

    key: str
    title: str
    severity: str
    started_at: datetime | None  # None: the record does not say; a new incident starts when it is recorded
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    services: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    visibility: Visibility = Visibility.OPEN
    reference_timezone: str | None = None
    entries: tuple[PastEntry, ...] = ()
    template: str | None = None
    sections: dict[str, str] = field(default_factory=dict)
    factors: tuple[tuple[str, str], ...] = ()  # (category, text)
    action_items: tuple[PastActionItem, ...] = ()
    metrics: dict[str, int | None] = field(default_factory=dict)  # agreed_*_seconds
    because: str = ""  # what the declared entry says it came from ("from PM2020-001.md")
    as_written: str = "published before it was recorded here, as its authors wrote it"


@dataclass(frozen=True)
class Recorded:
    """What recording did: the incident and post-mortem, whether it was new, whether anything changed."""

    incident_id: int
    postmortem_id: int
    created: bool
    changed: bool
    entries_added: int
    entries_removed: int


def record_past_incident(
    session: Session, *, actor: Actor, record: PastIncident, source: Source = Source.IMPORT, dry_run: bool = False
) -> Recorded:
    """Record (or bring up to date) a closed incident of the past with its published post-mortem.

    One transaction: any refusal leaves nothing of it behind. dry_run does all of it and rolls back, so
    that a rehearsal finds what a real run would refuse.
    """
    try:
        recorded = _record(session, actor, record, source)
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{record.key!r} is being recorded at the same moment; try again", field="key") from None
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return recorded


def incident_of_record(session: Session, *, key: str, source: Source = Source.IMPORT) -> int | None:
    """The incident recorded from the record with this key, if there is one."""
    query = select(TimelineEntry.incident_id).where(
        TimelineEntry.source == source,
        TimelineEntry.external_id == key[:EXTERNAL_ID_MAX],
        TimelineEntry.kind == EntryKind.STATUS_CHANGE,
    )
    return session.scalar(query)


def _record(session: Session, actor: Actor, record: PastIncident, source: Source) -> Recorded:
    fields: dict[str, Any] = {
        "title": record.title,
        "summary": record.summary,
        "severity": record.severity,
        "services": record.services,
        "teams": record.teams,
        "tags": record.tags,
        "visibility": record.visibility,
        "reference_timezone": record.reference_timezone,
    }
    times = {name: getattr(record, name, None) for name in KEY_TIMES}
    if record.started_at is None:
        del times["started_at"]  # unknown: the incident keeps the start it has
    existing = incident_of_record(session, key=record.key, source=source)
    if existing is None:
        incident = declare(
            session,
            actor=actor,
            source=source,
            started_at=record.started_at or utcnow(),
            detected_at=record.detected_at,
            because=record.because,
            external_id=record.key,
            after_the_fact=True,
            **fields,
        )
        before = None
    else:
        incident = session.get_one(Incident, existing)
        before = _state(incident)
        change(session, incident, actor=actor, source=source, changes={**fields, **times}, after_the_fact=True)
    added, removed = _sync_entries(session, incident, actor, record, source)
    postmortem_changed = _sync_postmortem(session, incident, actor, record)
    if incident.status is not Status.CLOSED:
        closing = {"status": Status.CLOSED, "mitigated_at": record.mitigated_at, "resolved_at": record.resolved_at}
        change(session, incident, actor=actor, source=source, changes=closing, after_the_fact=True)
    postmortem_id = session.scalar(select(Postmortem.id).where(Postmortem.incident_id == incident.id))
    assert postmortem_id is not None
    changed = before is None or before != _state(incident) or bool(added or removed) or postmortem_changed
    return Recorded(
        incident_id=incident.id,
        postmortem_id=postmortem_id,
        created=before is None,
        changed=changed,
        entries_added=added,
        entries_removed=removed,
    )


def _state(incident: Incident) -> tuple[Any, ...]:
    labels = sorted((label.kind.value, label.value) for label in incident.labels)
    plain = (incident.title, incident.summary, incident.severity, incident.visibility, incident.reference_timezone)
    return (*plain, *(getattr(incident, name) for name in KEY_TIMES), tuple(labels))


def _entry_key(record_key: str, entry: PastEntry) -> str:
    """An entry's key: the record's, and a digest of what the entry says, so an unchanged row keeps its entry."""
    told = "\x1f".join(
        (
            entry.occurred_at.isoformat() if entry.occurred_at else "start",
            entry.kind.value,
            entry.text,
            entry.evidence_url or "",
            str(entry.is_key_moment),
        )
    )
    digest = hashlib.sha256(told.encode("utf-8")).hexdigest()[:20]
    return f"{record_key[: EXTERNAL_ID_MAX - 28]}#{digest}"


def _sync_entries(
    session: Session, incident: Incident, actor: Actor, record: PastIncident, source: Source
) -> tuple[int, int]:
    """Add the record's entries this incident lacks and remove those the record no longer tells."""
    prefix = f"{record.key[: EXTERNAL_ID_MAX - 28]}#"
    stored = {
        entry.external_id: entry
        for entry in session.scalars(
            select(TimelineEntry).where(TimelineEntry.incident_id == incident.id, TimelineEntry.source == source)
        )
        if entry.external_id and entry.external_id.startswith(prefix)
    }
    live = {key for key, entry in stored.items() if entry.deleted_at is None}
    wanted: dict[str, PastEntry] = {}
    for entry in record.entries:
        key = _entry_key(record.key, entry)
        number = 1
        # A row told twice, or told again after it was removed, takes the next free key of its digest.
        while (key in wanted) or (key in stored and key not in live):
            number += 1
            key = f"{_entry_key(record.key, entry)}:{number}"
        wanted[key] = entry
    gone = [stored[key] for key in sorted(live - set(wanted))]
    for stale in gone:
        remove_entry(session, stale, actor=actor)
    new = [
        NewEntry(
            text=entry.text,
            occurred_at=entry.occurred_at or incident.started_at,
            kind=entry.kind,
            evidence_url=entry.evidence_url,
            is_key_moment=entry.is_key_moment,
            external_id=key,
        )
        for key, entry in wanted.items()
        if key not in live
    ]
    record_entries(session, incident, actor=actor, source=source, entries=new)
    return len(new), len(gone)


def _sync_postmortem(session: Session, incident: Incident, actor: Actor, record: PastIncident) -> bool:
    """Bring the post-mortem in line with the record and publish it; whether anything changed."""
    postmortem = session.scalar(select(Postmortem).where(Postmortem.incident_id == incident.id))
    if (
        postmortem is not None
        and postmortem.status is ReviewStatus.PUBLISHED
        and not _differs(session, postmortem, record)
    ):
        return False
    if postmortem is None:
        entries = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident.id, TimelineEntry.deleted_at.is_(None))
            .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        )
        postmortem = start(session, incident, actor=actor, template=record.template, entries=list(entries))
        # The record is the whole report: a section it does not have stays empty rather than pre-filled.
        sections = {section.key: "" for section in postmortem.sections} | record.sections
    else:
        if postmortem.status is ReviewStatus.PUBLISHED:
            reopen(session, postmortem, actor=actor, because="the recorded report changed")
        sections = {section.key: "" for section in postmortem.sections} | record.sections
    for key, body in sections.items():
        section = postmortem.section(key)
        if section is not None and section.body != body.strip():
            write_section(session, postmortem, actor=actor, key=key, body=body, version=section.version)
    _sync_factors(session, postmortem, actor, record)
    _sync_action_items(session, postmortem, actor, record)
    metrics = {name: value for name, value in record.metrics.items() if getattr(postmortem, name) != value}
    if record.severity != postmortem.agreed_severity:
        metrics["agreed_severity"] = record.severity  # type: ignore[assignment]
    if metrics:
        agree(session, postmortem, actor=actor, **metrics)
    publish(session, postmortem, actor=actor, as_written=record.as_written)
    return True


def _differs(session: Session, postmortem: Postmortem, record: PastIncident) -> bool:
    """Whether the stored post-mortem says something other than the record."""
    sections = {section.key: section.body for section in postmortem.sections}
    if any(sections[key] != record.sections.get(key, "").strip() for key in sections):
        return True
    if Counter(_factors_of(postmortem)) != Counter(record.factors):
        return True
    if any(getattr(postmortem, name) != value for name, value in record.metrics.items()):
        return True
    if record.severity != postmortem.agreed_severity:
        return True
    current = [item for item in postmortem.action_items if not _gone(item)]
    stored = sorted(map(repr, (_item_state(item) for item in current)))
    return stored != sorted(map(repr, (_wanted_state(session, item) for item in record.action_items)))


def _factors_of(postmortem: Postmortem) -> list[tuple[str, str]]:
    return [(factor.category, factor.text) for factor in postmortem.factors if factor.parent_id is None]


def _sync_factors(session: Session, postmortem: Postmortem, actor: Actor, record: PastIncident) -> None:
    wanted = Counter(record.factors)
    for factor in [f for f in postmortem.factors if f.parent_id is None]:
        pair = (factor.category, factor.text)
        if wanted[pair] > 0:
            wanted[pair] -= 1
        else:
            remove_factor(session, postmortem, factor, actor=actor)
    for category, text in record.factors:
        if wanted[(category, text)] > 0:
            wanted[(category, text)] -= 1
            add_factor(session, postmortem, actor=actor, text=text, category=category)


def _gone(item: ActionItem) -> bool:
    return item.status is ActionStatus.WONT_DO and item.wont_do_reason == GONE


def _item_state(item: ActionItem) -> tuple[Any, ...]:
    owner = item.owner.email if item.owner else None
    return (item.title, owner, item.owner_team, item.due_on, item.priority, item.type, item.status, item.ticket_url)


def _owner(session: Session, item: PastActionItem) -> tuple[str | None, str | None]:
    """(the owning account's email, the owner as text): an account when the record names one by email."""
    written = (item.owner or "").strip()
    person = user_by_email(session, written) if "@" in written[1:] else None
    if person is not None and person.is_active:
        return person.email, None
    return None, cut(written, TEAM_MAX) or None


def _wanted_state(session: Session, item: PastActionItem) -> tuple[Any, ...]:
    owner, owner_team = _owner(session, item)
    return (item.title, owner, owner_team, item.due_on, item.priority, item.type, item.status, item.ticket_url)


def _sync_action_items(session: Session, postmortem: Postmortem, actor: Actor, record: PastIncident) -> None:
    """Match action items by title: update those kept, add new ones, mark those dropped as won't do."""
    unmatched = list(postmortem.action_items)
    for wanted in record.action_items:
        item = next((i for i in unmatched if i.title == wanted.title.strip()), None)
        owner, owner_team = _owner(session, wanted)
        if item is None:
            item = add_item(
                session,
                postmortem,
                actor=actor,
                title=wanted.title,
                owner=owner,
                owner_team=owner_team,
                due_on=wanted.due_on,
                priority=wanted.priority,
                type=wanted.type,
                ticket_url=wanted.ticket_url,
            )
        else:
            unmatched.remove(item)
        changes: dict[str, Any] = {}
        if (item.owner.email if item.owner else None) != owner:
            changes["owner"] = owner
        for name, value in (
            ("owner_team", owner_team),
            ("due_on", wanted.due_on),
            ("priority", wanted.priority),
            ("type", wanted.type),
            ("ticket_url", wanted.ticket_url),
        ):
            if getattr(item, name) != value:
                changes[name] = value
        if item.status is not wanted.status:
            changes["status"] = wanted.status
            if wanted.status is ActionStatus.WONT_DO:
                changes["wont_do_reason"] = item.wont_do_reason or "Not done, as the recorded report says."
        if changes:
            change_item(session, item, actor=actor, **changes)
    for item in unmatched:
        if not _gone(item):
            change_item(session, item, actor=actor, status=ActionStatus.WONT_DO, wont_do_reason=GONE)

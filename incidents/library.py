"""Incidents as the org-wide library reads them: plain, frozen records, never ORM objects.

The search index is built from these and from nothing else, so that what can be found, and who may
find it, follows the incident record: a restricted incident's record names the people who may read
it (its participants; admins read everything). A post-mortem is part of its incident's record once
it is published; drafts are not searchable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .access import ensure_can_see
from .alerts.models import AlertOccurrence
from .models import EntryKind, Incident, LabelKind, Source, TimelineEntry, User, Visibility
from .postmortems.models import Postmortem, ReviewStatus


@dataclass(frozen=True)
class FactorRecord:
    """A contributing factor: its category and what it says."""

    category: str
    text: str


@dataclass(frozen=True)
class CountermeasureRecord:
    """An action item of a published post-mortem."""

    title: str
    status: str
    priority: str
    owner: str
    due_on: str | None


@dataclass(frozen=True)
class SectionRecord:
    """A post-mortem section with text in it."""

    key: str
    title: str
    body: str


@dataclass(frozen=True)
class PublishedRecord:
    """A published post-mortem."""

    postmortem_id: int
    title: str
    published_at: datetime
    sections: tuple[SectionRecord, ...]
    factors: tuple[FactorRecord, ...]
    countermeasures: tuple[CountermeasureRecord, ...]


@dataclass(frozen=True)
class IncidentRecord:
    """An incident for the library, with its published post-mortem if it has one."""

    incident_id: int
    title: str
    summary: str
    severity: str
    status: str
    restricted: bool
    # Who may read it when restricted: its participants (anyone holding a role in it).
    reader_ids: tuple[int, ...]
    started_at: datetime
    resolved_at: datetime | None
    services: tuple[str, ...]
    teams: tuple[str, ...]
    tags: tuple[str, ...]
    key_moments: tuple[str, ...]
    alert_names: tuple[str, ...]
    postmortem: PublishedRecord | None
    # The identifier an imported report came with (its front matter's uuid or id, else its file name).
    source_id: str | None = None


def incident_records(session: Session, incident_ids: Sequence[int]) -> list[IncidentRecord]:
    """The records of these incidents (those that exist), in id order."""
    if not incident_ids:
        return []
    ids = sorted(set(incident_ids))
    incidents = session.scalars(
        select(Incident)
        .where(Incident.id.in_(ids))
        .options(selectinload(Incident.labels), selectinload(Incident.assignments))
        .order_by(Incident.id)
    ).all()
    moments: dict[int, list[str]] = {}
    for incident_id, text in session.execute(
        select(TimelineEntry.incident_id, TimelineEntry.text)
        .where(
            TimelineEntry.incident_id.in_(ids),
            TimelineEntry.is_key_moment.is_(True),
            TimelineEntry.deleted_at.is_(None),
        )
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    ):
        moments.setdefault(incident_id, []).append(text)
    alerts: dict[int, set[str]] = {}
    for alerted, name in session.execute(
        select(AlertOccurrence.incident_id, AlertOccurrence.name).where(AlertOccurrence.incident_id.in_(ids)).distinct()
    ):
        if alerted is not None:
            alerts.setdefault(alerted, set()).add(name)
    sources: dict[int, str] = {}
    for imported, key in session.execute(
        select(TimelineEntry.incident_id, TimelineEntry.external_id)
        .where(
            TimelineEntry.incident_id.in_(ids),
            TimelineEntry.source == Source.IMPORT,
            TimelineEntry.kind == EntryKind.STATUS_CHANGE,
            TimelineEntry.external_id.is_not(None),
        )
        .order_by(TimelineEntry.id)
    ):
        if key is not None:
            sources.setdefault(imported, key)
    published = {
        pm.incident_id: pm
        for pm in session.scalars(
            select(Postmortem)
            .where(Postmortem.incident_id.in_(ids), Postmortem.status == ReviewStatus.PUBLISHED)
            .options(
                selectinload(Postmortem.sections),
                selectinload(Postmortem.factors),
                selectinload(Postmortem.action_items),
            )
        )
    }
    return [
        replace(
            _record(incident, moments.get(incident.id, []), alerts.get(incident.id, set()), published.get(incident.id)),
            source_id=sources.get(incident.id),
        )
        for incident in incidents
    ]


def incident_count(session: Session) -> int:
    """How many incidents there are."""
    return session.scalar(select(func.count()).select_from(Incident)) or 0


def incident_ids_in_batches(session: Session, size: int = 500) -> Iterator[list[int]]:
    """Every incident's id, in batches of `size`, oldest first (for a full rebuild of the index)."""
    last = 0
    while True:
        batch = list(session.scalars(select(Incident.id).where(Incident.id > last).order_by(Incident.id).limit(size)))
        if not batch:
            return
        yield batch
        last = batch[-1]


def _record(incident: Incident, moments: list[str], alerts: set[str], postmortem: Postmortem | None) -> IncidentRecord:
    return IncidentRecord(
        incident_id=incident.id,
        title=incident.title,
        summary=incident.summary,
        severity=incident.severity,
        status=incident.status.value,
        restricted=incident.visibility is not Visibility.OPEN,
        reader_ids=tuple(sorted({a.user_id for a in incident.assignments})),
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        services=tuple(incident.label_values(LabelKind.SERVICE)),
        teams=tuple(incident.label_values(LabelKind.TEAM)),
        tags=tuple(incident.label_values(LabelKind.TAG)),
        key_moments=tuple(moments),
        alert_names=tuple(sorted(alerts)),
        postmortem=_published(postmortem) if postmortem is not None and postmortem.published_at else None,
    )


def _published(postmortem: Postmortem) -> PublishedRecord:
    assert postmortem.published_at is not None
    return PublishedRecord(
        postmortem_id=postmortem.id,
        title=postmortem.title,
        published_at=postmortem.published_at,
        sections=tuple(SectionRecord(s.key, s.title, s.body) for s in postmortem.sections if s.body.strip()),
        factors=tuple(FactorRecord(f.category, f.text) for f in postmortem.factors),
        countermeasures=tuple(
            CountermeasureRecord(
                title=item.title,
                status=item.status.value,
                priority=item.priority.value,
                owner=item.owner.name if item.owner is not None else (item.owner_team or ""),
                due_on=item.due_on.isoformat() if item.due_on else None,
            )
            for item in postmortem.action_items
        ),
    )


def incident_ids_of_postmortems(session: Session, postmortem_ids: Sequence[int]) -> dict[int, int]:
    """The incident of each of these post-mortems (those that exist), by post-mortem id."""
    if not postmortem_ids:
        return {}
    rows = session.execute(select(Postmortem.id, Postmortem.incident_id).where(Postmortem.id.in_(set(postmortem_ids))))
    return {postmortem_id: incident_id for postmortem_id, incident_id in rows}


def visible_record(session: Session, *, viewer: User, incident_id: int) -> IncidentRecord:
    """The record of an incident the viewer may see; NotFound otherwise (missing or hidden alike)."""
    incident = session.get(Incident, incident_id)
    ensure_can_see(incident, viewer, incident_id)
    return incident_records(session, [incident_id])[0]

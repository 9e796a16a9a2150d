"""Incidents as the org-wide library reads them: plain, frozen records, never ORM objects.

The search index is built from these and from nothing else, so that what can be found, and who may
find it, follows the incident record: a restricted incident's record names the people who may read
it (its participants; admins read everything). A post-mortem is part of its incident's record once
it is published; drafts are not searchable.

The library's lists (recently published, this day in incident history, the feeds) are read here too,
as `PublishedEntry` records, filtered by the same rule the incident pages use (`visible_to`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from .access import ensure_can_see, visible_to
from .alerts.models import AlertOccurrence
from .models import (
    LABEL_MAX,
    EntryKind,
    Incident,
    IncidentLabel,
    LabelKind,
    Source,
    TimelineEntry,
    User,
    Visibility,
)
from .postmortems import times
from .postmortems.models import ContributingFactor, Postmortem, PostmortemSection, ReviewStatus

# How far back "this day in incident history" looks: one range of start times per earlier year.
ANNIVERSARY_YEARS = 100


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
        # Times in a section are <time> elements; the index reads their words (UTC), not the markup.
        sections=tuple(
            SectionRecord(s.key, s.title, times.plain(s.body, "UTC")) for s in postmortem.sections if s.body.strip()
        ),
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


@dataclass(frozen=True)
class PublishedEntry:
    """A published post-mortem as the library lists it: a line of a list, an entry of a feed."""

    postmortem_id: int
    incident_id: int
    title: str
    # The post-mortem's summary section, else the incident's summary (Markdown as written).
    summary: str
    severity: str
    restricted: bool
    started_at: datetime
    published_at: datetime
    # The later of its publication and its last change.
    updated_at: datetime
    services: tuple[str, ...]
    teams: tuple[str, ...]
    tags: tuple[str, ...]
    categories: tuple[str, ...]


def recently_published(
    session: Session, *, viewer: User, limit: int = 20, label: tuple[LabelKind, str] | None = None
) -> list[PublishedEntry]:
    """The post-mortems the viewer may see, most recently published first; with a label, only those of
    incidents that carry it (in any letter case, as the search index counts labels)."""
    query = _published_rows(viewer).order_by(Postmortem.published_at.desc(), Postmortem.id.desc()).limit(limit)
    if label is not None:
        kind, value = label
        spellings = _spellings(session, kind, value)
        if not spellings:
            return []
        labelled = select(IncidentLabel.incident_id).where(
            IncidentLabel.kind == kind, IncidentLabel.value.in_(spellings)
        )
        query = query.where(Incident.id.in_(labelled))
    return _entries(session, query)


def _spellings(session: Session, kind: LabelKind, value: str) -> list[str]:
    """The values of this kind of label stored that read as this one in any letter case.

    Read from the index on (kind, value) and compared here rather than with lower() in SQL, which would
    read every label and folds only ASCII on SQLite; the incidents are then found through that index."""
    if "\x00" in value or len(value) > LABEL_MAX:
        return []  # no label holds one (and PostgreSQL refuses a NUL even to compare)
    wanted = value.lower()
    stored = session.scalars(select(IncidentLabel.value).where(IncidentLabel.kind == kind).distinct())
    return [spelling for spelling in stored if spelling.lower() == wanted]


def published_on_this_day(
    session: Session, *, viewer: User, today: date, zone: str, limit: int = 50
) -> list[PublishedEntry]:
    """Post-mortems the viewer may see of incidents that began on today's month and day in an earlier
    year, each day read in the zone; the most recent year first.

    The days become ranges of start times, one per year, which every database compares alike and
    answers from the index on started_at (no date functions, which SQLite and PostgreSQL spell apart).
    """
    earliest = session.scalar(select(func.min(Incident.started_at)))
    if earliest is None:
        return []
    # A start late on December 31st in UTC is January 1st further east: begin a year early.
    first_year = max(1, earliest.year - 1, today.year - ANNIVERSARY_YEARS)
    ranges = day_ranges(anniversaries(today, first_year=first_year), zone)
    if not ranges:
        return []
    began = or_(*(and_(Incident.started_at >= start, Incident.started_at < end) for start, end in ranges))
    # As a list of ids: SQLite would otherwise read every incident newest first, testing each against
    # the ranges, to fill the list in order; this way it reads only the ranges from the index.
    query = (
        _published_rows(viewer)
        .where(Incident.id.in_(select(Incident.id).where(began)))
        .order_by(Incident.started_at.desc(), Postmortem.id.desc())
        .limit(limit)
    )
    return _entries(session, query)


def anniversaries(today: date, *, first_year: int) -> list[date]:
    """The days of the years before today's, back to first_year, with today's month and day, latest
    first. February 29th comes round in leap years only; in other years it is remembered on the 28th."""
    leap_day = (today.month, today.day) == (2, 29)
    remembers_leap_day = (today.month, today.day) == (2, 28) and not calendar.isleap(today.year)
    days: list[date] = []
    for year in range(today.year - 1, max(first_year, 1) - 1, -1):
        if leap_day:
            if calendar.isleap(year):
                days.append(date(year, 2, 29))
            continue
        days.append(date(year, today.month, today.day))
        if remembers_leap_day and calendar.isleap(year):
            days.append(date(year, 2, 29))
    return days


def day_ranges(days: Sequence[date], zone: str) -> list[tuple[datetime, datetime]]:
    """Each day as [its midnight, the next midnight) in the zone, in UTC; a day the zone would take
    outside the years a time can hold is left out."""
    tz = ZoneInfo(zone)
    ranges = []
    for day in days:
        try:
            start = datetime.combine(day, time(), tz).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
        except (OverflowError, ValueError):
            continue
        ranges.append((start, end))
    return ranges


def _published_rows(viewer: User) -> Select[*tuple[Any, ...]]:
    """Published post-mortems the viewer may see, with what a list shows of their incidents."""
    return (
        select(
            Postmortem.id,
            Postmortem.incident_id,
            Postmortem.title,
            Postmortem.published_at,
            Postmortem.updated_at,
            Incident.title,
            Incident.summary,
            Incident.severity,
            Incident.visibility,
            Incident.started_at,
        )
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(
            visible_to(viewer),
            # Most post-mortems are published, so the index on status is a poor way in; but SQLite, which
            # keeps no statistics here, takes it and sorts every published one. Compared as an expression
            # the recent list is read newest first from the index on published_at and stops at its limit
            # (at 50,000 incidents: 26 ms down to 4 ms; PostgreSQL plans alike either way).
            func.lower(Postmortem.status) == ReviewStatus.PUBLISHED.value,
            Postmortem.published_at.is_not(None),
        )
    )


def _entries(session: Session, query: Select[*tuple[Any, ...]]) -> list[PublishedEntry]:
    """The rows as entries, with their labels, categories and summaries: three more queries, whatever the count."""
    rows = session.execute(query).all()
    if not rows:
        return []
    incident_ids = sorted({row[1] for row in rows})
    postmortem_ids = sorted({row[0] for row in rows})
    labels: dict[tuple[int, LabelKind], list[str]] = {}
    for incident_id, kind, value in session.execute(
        select(IncidentLabel.incident_id, IncidentLabel.kind, IncidentLabel.value).where(
            IncidentLabel.incident_id.in_(incident_ids)
        )
    ):
        labels.setdefault((incident_id, kind), []).append(value)
    categories: dict[int, set[str]] = {}
    for postmortem_id, category in session.execute(
        select(ContributingFactor.postmortem_id, ContributingFactor.category)
        .where(ContributingFactor.postmortem_id.in_(postmortem_ids))
        .distinct()
    ):
        categories.setdefault(postmortem_id, set()).add(category)
    summaries: dict[int, str] = {
        postmortem_id: body
        for postmortem_id, body in session.execute(
            select(PostmortemSection.postmortem_id, PostmortemSection.body).where(
                PostmortemSection.postmortem_id.in_(postmortem_ids), PostmortemSection.key == "summary"
            )
        )
    }
    entries = []
    for pm_id, incident_id, pm_title, published_at, updated_at, title, summary, severity, visibility, started in rows:
        section = summaries.get(pm_id, "")
        entries.append(
            PublishedEntry(
                postmortem_id=pm_id,
                incident_id=incident_id,
                title=pm_title if pm_title.strip() else title,
                summary=section if section.strip() else summary,
                severity=severity,
                restricted=visibility is not Visibility.OPEN,
                started_at=started,
                published_at=published_at,
                updated_at=max(published_at, updated_at),
                services=tuple(sorted(labels.get((incident_id, LabelKind.SERVICE), []))),
                teams=tuple(sorted(labels.get((incident_id, LabelKind.TEAM), []))),
                tags=tuple(sorted(labels.get((incident_id, LabelKind.TAG), []))),
                categories=tuple(sorted(categories.get(pm_id, set()))),
            )
        )
    return entries

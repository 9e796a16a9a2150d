"""Read-only queries, always through the reader's visibility. They never commit."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from .access import ensure_can_see, visible_to
from .errors import BadRequest
from .models import (
    Incident,
    IncidentLabel,
    LabelKind,
    Status,
    TimelineEntry,
    User,
)

PAGE_MAX = 200


@dataclass(frozen=True)
class IncidentFilter:
    """What a list of incidents is narrowed to; empty means everything visible."""

    statuses: Sequence[Status] = ()
    severities: Sequence[str] = ()
    service: str | None = None
    team: str | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


@dataclass
class IncidentPage:
    """One page of incidents, newest start first, and the cursor of the next page if any."""

    incidents: list[Incident]
    next_cursor: str | None = None
    filters: IncidentFilter = field(default_factory=IncidentFilter)


def get_incident(session: Session, *, viewer: User, incident_id: int) -> Incident:
    """The incident, if the viewer may see it; NotFound otherwise."""
    incident = session.scalar(
        select(Incident)
        .where(Incident.id == incident_id)
        .options(selectinload(Incident.labels), selectinload(Incident.assignments))
    )
    return ensure_can_see(incident, viewer, incident_id)


def list_incidents(
    session: Session,
    *,
    viewer: User,
    filters: IncidentFilter,
    cursor: str | None = None,
    limit: int = 50,
) -> IncidentPage:
    """A page of the incidents the viewer may see, most recently started first."""
    limit = max(1, min(limit, PAGE_MAX))
    query = _filtered(select(Incident).where(visible_to(viewer)), filters)
    if cursor:
        started, last_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Incident.started_at < started,
                and_(Incident.started_at == started, Incident.id < last_id),
            )
        )
    query = (
        query.order_by(Incident.started_at.desc(), Incident.id.desc())
        .limit(limit + 1)
        .options(selectinload(Incident.labels), selectinload(Incident.assignments))
    )
    rows = list(session.scalars(query))
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return IncidentPage(incidents=rows[:limit], next_cursor=next_cursor, filters=filters)


def list_timeline(
    session: Session, *, viewer: User, incident_id: int, include_deleted: bool = False
) -> list[TimelineEntry]:
    """An incident's timeline in the order things happened."""
    get_incident(session, viewer=viewer, incident_id=incident_id)
    query = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
    if not include_deleted:
        query = query.where(TimelineEntry.deleted_at.is_(None))
    query = query.order_by(TimelineEntry.occurred_at, TimelineEntry.id).options(
        selectinload(TimelineEntry.revisions)
    )
    return list(session.scalars(query))


def _filtered(query: Select[Any], filters: IncidentFilter) -> Select[Any]:
    if filters.statuses:
        query = query.where(Incident.status.in_(filters.statuses))
    if filters.severities:
        query = query.where(Incident.severity.in_(filters.severities))
    for kind, value in (
        (LabelKind.SERVICE, filters.service),
        (LabelKind.TEAM, filters.team),
        (LabelKind.TAG, filters.tag),
    ):
        if value:
            query = query.where(
                exists(
                    select(IncidentLabel.id).where(
                        IncidentLabel.incident_id == Incident.id,
                        IncidentLabel.kind == kind,
                        IncidentLabel.value == value,
                    )
                )
            )
    if filters.since:
        query = query.where(Incident.started_at >= filters.since)
    if filters.until:
        query = query.where(Incident.started_at < filters.until)
    if filters.text:
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Incident.title.ilike(f"%{escaped}%", escape="\\"))
    return query


def _encode_cursor(incident: Incident) -> str:
    raw = f"{incident.started_at.isoformat()}|{incident.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started, last_id = raw.split("|")
        value = datetime.fromisoformat(started)
        if value.tzinfo is None:
            raise ValueError
        return value, int(last_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not one this server gave out", field="cursor") from None




"""Read-only queries, always through the reader's visibility. They never commit."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .access import ensure_admin, ensure_can_see, visible_to
from .accounts.models import ApiToken
from .errors import BadRequest, NotFound
from .models import (
    INT_MAX,
    EntryKind,
    Incident,
    IncidentLabel,
    IncidentRole,
    LabelKind,
    RoleAssignment,
    Source,
    Status,
    TimelineEntry,
    TimelineEntryRevision,
    User,
)
from .postmortems.blameless import Finding, check_language
from .settings import severity_scale
from .validation import as_utc

PAGE_MAX = 200
# Cursors this server gives out are under 100 characters.
CURSOR_MAX = 500
SORTS = ("newest", "oldest", "updated", "severity")


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
    """One page of incidents in the chosen order, and the cursor of the next page if any."""

    incidents: list[Incident]
    next_cursor: str | None = None
    filters: IncidentFilter = field(default_factory=IncidentFilter)
    sort: str = "newest"


@dataclass(frozen=True)
class TimelineFilter:
    """Which timeline entries to show; empty means all that are not deleted."""

    sources: Sequence[Source] = ()
    kinds: Sequence[EntryKind] = ()
    key_moments_only: bool = False
    include_deleted: bool = False


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
    sort: str = "newest",
) -> IncidentPage:
    """A page of the incidents the viewer may see, in the chosen order (newest start first by default)."""
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", field="sort")
    limit = max(1, min(limit, PAGE_MAX))
    keys = _sort_keys(sort)
    query = _filtered(select(Incident).where(visible_to(viewer)), filters, session.get_bind().dialect.name)
    if cursor:
        query = query.where(_after(keys, _decode_cursor(cursor, len(keys))))
    query = (
        query.order_by(*(column.desc() if descending else column.asc() for column, descending in keys))
        .limit(limit + 1)
        .options(selectinload(Incident.labels), selectinload(Incident.assignments))
    )
    rows = list(session.scalars(query))
    next_cursor = _encode_cursor(_key_values(rows[limit - 1], sort)) if len(rows) > limit else None
    return IncidentPage(incidents=rows[:limit], next_cursor=next_cursor, filters=filters, sort=sort)


@dataclass(frozen=True)
class IncidentLine:
    """An incident as an export writes it: its columns, its label values by kind (sorted), its commanders."""

    incident: Any  # a row of the incidents table: the Incident's columns by name, without an entity
    labels: dict[LabelKind, list[str]]
    commanders: list[str]


def iter_incident_lines(
    session: Session, *, viewer: User, filters: IncidentFilter, sort: str = "newest", batch: int = 500
) -> Iterator[IncidentLine]:
    """Every incident the viewer may see that matches, in order, a page at a time, as plain rows (for exports).

    Plain rows, not entities: building an Incident with its labels and roles cost ~9 objects a row,
    most of an export's time; memory stays flat however long the export.
    """
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", field="sort")
    keys = _sort_keys(sort)
    query = _filtered(select(Incident.__table__).where(visible_to(viewer)), filters, session.get_bind().dialect.name)
    query = query.order_by(*(column.desc() if descending else column.asc() for column, descending in keys))
    after: list[Any] | None = None
    while True:
        page = query if after is None else query.where(_after(keys, after))
        rows = session.execute(page.limit(batch)).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        labels: dict[int, dict[LabelKind, list[str]]] = {i: {} for i in ids}
        for incident_id, kind, value in session.execute(
            select(IncidentLabel.incident_id, IncidentLabel.kind, IncidentLabel.value).where(
                IncidentLabel.incident_id.in_(ids)
            )
        ):
            labels[incident_id].setdefault(kind, []).append(value)
        commanders: dict[int, list[str]] = {i: [] for i in ids}
        for incident_id, name in session.execute(
            select(RoleAssignment.incident_id, User.name)
            .join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.incident_id.in_(ids), RoleAssignment.role == IncidentRole.COMMANDER)
            .order_by(RoleAssignment.id)
        ):
            commanders[incident_id].append(name)
        for row in rows:
            by_kind = {kind: sorted(values) for kind, values in labels[row.id].items()}
            yield IncidentLine(incident=row, labels=by_kind, commanders=commanders[row.id])
        if len(rows) < batch:
            return
        after = _key_values(rows[-1], sort)


def list_timeline(
    session: Session,
    *,
    viewer: User,
    incident_id: int,
    filters: TimelineFilter = TimelineFilter(),
) -> list[TimelineEntry]:
    """An incident's timeline in the order things happened."""
    get_incident(session, viewer=viewer, incident_id=incident_id)
    query = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
    if not filters.include_deleted:
        query = query.where(TimelineEntry.deleted_at.is_(None))
    if filters.sources:
        query = query.where(TimelineEntry.source.in_(filters.sources))
    if filters.kinds:
        query = query.where(TimelineEntry.kind.in_(filters.kinds))
    if filters.key_moments_only:
        query = query.where(TimelineEntry.is_key_moment.is_(True))
    entries = list(session.scalars(query.order_by(TimelineEntry.occurred_at, TimelineEntry.id)))
    # The incident's corrections, with who made each, in one query: few entries have any, and asking
    # per entry (or by thousands of ids) costs round trips that a long timeline feels.
    revisions: dict[int, list[TimelineEntryRevision]] = {e.id: [] for e in entries}
    corrections = (
        select(TimelineEntryRevision)
        .join(TimelineEntry, TimelineEntry.id == TimelineEntryRevision.entry_id)
        .where(TimelineEntry.incident_id == incident_id)
        .order_by(TimelineEntryRevision.id)
        .options(joinedload(TimelineEntryRevision.revised_by))
    )
    for revision in session.scalars(corrections):
        if revision.entry_id in revisions:
            revisions[revision.entry_id].append(revision)
    for entry in entries:
        set_committed_value(entry, "revisions", revisions[entry.id])
    return entries


def get_timeline_entry(session: Session, *, viewer: User, incident_id: int, entry_id: int) -> TimelineEntry:
    """One live entry of an incident the viewer may see, or NotFound."""
    get_incident(session, viewer=viewer, incident_id=incident_id)
    entry = session.get(TimelineEntry, entry_id)
    if entry is None or entry.incident_id != incident_id or entry.deleted_at is not None:
        raise NotFound(f"timeline entry {entry_id} not found in incident {incident_id}")
    return entry


def active_users(session: Session) -> list[User]:
    """Every active account, by name: the people who can take a role."""
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)))


def blameless_findings(session: Session, *, text: str) -> list[Finding]:
    """The blameless check's findings in the text; every active account's name counts as a person."""
    return check_language(text, people=[u.name for u in active_users(session)])


def all_users(session: Session, *, viewer: User) -> list[User]:
    """Every account, for an admin."""
    ensure_admin(viewer)
    return list(session.scalars(select(User).order_by(User.name, User.id)))


def tokens_of(session: Session, *, user_id: int) -> list[ApiToken]:
    """A user's API tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def _sort_keys(sort: str) -> list[tuple[Any, bool]]:
    """The (expression, descending) pairs a sort orders by; the last is always the unique id."""
    if sort == "oldest":
        return [(Incident.started_at, False), (Incident.id, False)]
    if sort == "updated":
        return [(Incident.updated_at, True), (Incident.id, True)]
    if sort == "severity":
        return [(_severity_rank(), False), (Incident.started_at, True), (Incident.id, True)]
    return [(Incident.started_at, True), (Incident.id, True)]


def _severity_rank() -> ColumnElement[int]:
    scale = severity_scale()
    return case({name: rank for rank, name in enumerate(scale)}, value=Incident.severity, else_=len(scale))


def _key_values(incident: Any, sort: str) -> list[Any]:
    """The sort keys of an incident (an entity or a row of its table), as a cursor holds them."""
    if sort == "updated":
        return [incident.updated_at, incident.id]
    if sort == "severity":
        scale = severity_scale()
        rank = scale.index(incident.severity) if incident.severity in scale else len(scale)
        return [rank, incident.started_at, incident.id]
    return [incident.started_at, incident.id]


def _after(keys: list[tuple[Any, bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor's row in the sort order (keyset pagination)."""
    clauses: list[ColumnElement[bool]] = []
    for position, (column, descending) in enumerate(keys):
        equal_before = [keys[i][0] == values[i] for i in range(position)]
        beyond = column < values[position] if descending else column > values[position]
        clauses.append(and_(*equal_before, beyond))
    # Implied by the OR below, but only this plain range lets the planner seek an index to the
    # cursor; without it every page scans from the first row (an export turned quadratic).
    first, descending = keys[0]
    bound = first <= values[0] if descending else first >= values[0]
    return and_(bound, or_(false(), *clauses))


def _filtered(query: Select[Any], filters: IncidentFilter, dialect: str) -> Select[Any]:
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
        pattern = f"%{escaped}%"
        # SQLite's LIKE already ignores ASCII case and its lower() folds nothing more, so ILIKE's
        # lower(title) LIKE lower(?) there only costs two calls a row (a rare word reads every title).
        if dialect == "sqlite":
            query = query.where(Incident.title.like(pattern, escape="\\"))
        else:
            query = query.where(Incident.title.ilike(pattern, escape="\\"))
    return query


def _encode_cursor(values: list[Any]) -> str:
    tagged = [["t", v.isoformat()] if isinstance(v, datetime) else ["i", v] for v in values]
    return base64.urlsafe_b64encode(json.dumps(tagged, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, length: int) -> list[Any]:
    """The sort keys a cursor holds; anything but what _encode_cursor writes is a 400, never sent to the database."""
    try:
        if len(cursor) > CURSOR_MAX:
            raise ValueError
        tagged = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(tagged, list) or len(tagged) != length:
            raise ValueError
        values: list[Any] = []
        for tag, value in tagged:
            if tag == "t" and isinstance(value, str):
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError
                values.append(as_utc(parsed))
            elif tag == "i" and type(value) is int and 0 <= value <= INT_MAX:
                # Severity ranks and ids: never negative, never beyond an INTEGER column.
                values.append(value)
            else:
                raise ValueError
        return values
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise BadRequest("cursor is not one this server gave out for this order", field="cursor") from None

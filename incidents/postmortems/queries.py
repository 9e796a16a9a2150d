"""Reading post-mortems and action items, only ever those of incidents the viewer may see. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from ..access import ensure_can_see, visible_to
from ..errors import NotFound
from ..models import Incident, IncidentLabel, LabelKind, User
from .models import (
    OPEN_ACTION_STATUSES,
    ActionItem,
    ActionPriority,
    ActionStatus,
    Postmortem,
    PostmortemChange,
    ReviewStatus,
)


def get_postmortem(session: Session, *, viewer: User, postmortem_id: int) -> Postmortem:
    """The post-mortem, or NotFound when it is missing or its incident is hidden from the viewer."""
    postmortem = session.get(Postmortem, postmortem_id)
    if postmortem is None:
        raise NotFound(f"post-mortem {postmortem_id} not found")
    try:
        ensure_can_see(postmortem.incident, viewer, postmortem.incident_id)
    except NotFound:
        raise NotFound(f"post-mortem {postmortem_id} not found") from None
    return postmortem


def postmortem_of_incident(session: Session, *, viewer: User, incident_id: int) -> Postmortem | None:
    """The incident's post-mortem, if it has one (NotFound when the incident is hidden)."""
    ensure_can_see(session.get(Incident, incident_id), viewer, incident_id)
    return session.scalar(select(Postmortem).where(Postmortem.incident_id == incident_id))


def postmortem_changes(session: Session, *, viewer: User, postmortem_id: int) -> list[PostmortemChange]:
    """Every saved change to the post-mortem, newest first."""
    get_postmortem(session, viewer=viewer, postmortem_id=postmortem_id)
    query = select(PostmortemChange).where(PostmortemChange.postmortem_id == postmortem_id)
    return list(session.scalars(query.order_by(PostmortemChange.changed_at.desc(), PostmortemChange.id.desc())))


def recent_postmortems(session: Session, *, viewer: User, limit: int = 10) -> list[Postmortem]:
    """The most recently published post-mortems the viewer may see."""
    query = (
        select(Postmortem)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(visible_to(viewer), Postmortem.status == ReviewStatus.PUBLISHED)
        .order_by(Postmortem.published_at.desc(), Postmortem.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class ActionItemFilter:
    """Which action items to list: by owner, team, service, status, priority, or only the overdue."""

    owner_id: int | None = None
    team: str | None = None
    service: str | None = None
    statuses: Sequence[ActionStatus] = ()
    priority: ActionPriority | None = None
    overdue_on: date | None = None  # only open items due before this day


def list_action_items(
    session: Session, *, viewer: User, filters: ActionItemFilter, limit: int = 200
) -> list[ActionItem]:
    """Action items across every post-mortem the viewer may see; soonest due first."""
    query = (
        select(ActionItem)
        .join(Postmortem, Postmortem.id == ActionItem.postmortem_id)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(visible_to(viewer))
    )
    if filters.owner_id is not None:
        query = query.where(ActionItem.owner_id == filters.owner_id)
    if filters.team:
        query = query.where(ActionItem.owner_team == filters.team)
    if filters.service:
        query = query.where(
            exists(
                select(IncidentLabel.id).where(
                    IncidentLabel.incident_id == Incident.id,
                    IncidentLabel.kind == LabelKind.SERVICE,
                    IncidentLabel.value == filters.service.strip(),
                )
            )
        )
    if filters.statuses:
        query = query.where(ActionItem.status.in_(list(filters.statuses)))
    if filters.priority is not None:
        query = query.where(ActionItem.priority == filters.priority)
    if filters.overdue_on is not None:
        query = query.where(ActionItem.status.in_(OPEN_ACTION_STATUSES), ActionItem.due_on < filters.overdue_on)
    query = query.order_by(ActionItem.due_on.asc().nulls_last(), ActionItem.id).limit(max(1, min(limit, 500)))
    query = query.options(selectinload(ActionItem.owner), selectinload(ActionItem.postmortem))
    return list(session.scalars(query))

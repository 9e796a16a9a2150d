"""Read-only queries about alerts and deliveries. They never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import ensure_admin, ensure_can_see
from ..errors import NotFound
from ..models import Incident, Source, User
from .commands import sender_name
from .models import AlertOccurrence, Delivery, DeliveryOutcome


def undecipherable_deliveries(session: Session, *, viewer: User, limit: int = 200) -> Sequence[Delivery]:
    """The deliveries that could not be understood, newest first (admins only)."""
    ensure_admin(viewer)
    return session.scalars(
        select(Delivery)
        .where(Delivery.outcome == DeliveryOutcome.UNDECIPHERABLE)
        .order_by(Delivery.id.desc())
        .limit(limit)
    ).all()


def deliveries_to_replay(session: Session, *, delivery_ids: Sequence[int] = ()) -> Sequence[int]:
    """The ids of the undecipherable deliveries (or of the ones given), oldest first."""
    query = select(Delivery.id).order_by(Delivery.id)
    if delivery_ids:
        query = query.where(Delivery.id.in_(delivery_ids))
    else:
        query = query.where(Delivery.outcome == DeliveryOutcome.UNDECIPHERABLE)
    return session.scalars(query).all()


def delivery_content(session: Session, *, delivery_id: int) -> tuple[Source, bytes]:
    """Who sent a stored delivery and its raw body."""
    row = session.execute(select(Delivery.source, Delivery.body).where(Delivery.id == delivery_id)).one_or_none()
    if row is None:
        raise NotFound(f"delivery {delivery_id} not found")
    return row[0], row[1]


def recent_alerts(session: Session, *, viewer: User, limit: int = 100) -> list[tuple[AlertOccurrence, str | None]]:
    """The alert occurrences that arrived last, newest first, each with its incident's title (admins only).

    What became of an alert, for the admin asking why one did or did not open an incident.
    """
    ensure_admin(viewer)
    rows = session.execute(
        select(AlertOccurrence, Incident.title)
        .outerjoin(Incident, Incident.id == AlertOccurrence.incident_id)
        .order_by(AlertOccurrence.id.desc())
        .limit(limit)
    )
    return [(occurrence, title) for occurrence, title in rows]


@dataclass(frozen=True)
class FiringAlert:
    """An alert of an incident that has not resolved yet."""

    sender: str
    name: str
    service: str | None
    since: datetime


@dataclass(frozen=True)
class IncidentAlerts:
    """The alerts that fed an incident: how many still fire and how many resolved, and the first few still firing."""

    firing: int
    resolved: int
    still_firing: list[FiringAlert]


def incident_alerts(session: Session, *, viewer: User, incident_id: int, limit: int = 20) -> IncidentAlerts:
    """What the responder asks at a glance: is it still firing, and what? (the longest firing first)."""
    ensure_can_see(session.get(Incident, incident_id), viewer, incident_id)
    o = AlertOccurrence
    counts: dict[str, int] = {
        state: count
        for state, count in session.execute(
            select(o.state, func.count()).where(o.incident_id == incident_id).group_by(o.state)
        )
    }
    rows = session.execute(
        select(o.source, o.name, o.service, o.started_at)
        .where(o.incident_id == incident_id, o.state == "firing")
        .order_by(o.started_at, o.id)
        .limit(limit)
    )
    return IncidentAlerts(
        firing=counts.get("firing", 0),
        resolved=counts.get("resolved", 0),
        still_firing=[FiringAlert(sender_name(source), name, service, since) for source, name, service, since in rows],
    )

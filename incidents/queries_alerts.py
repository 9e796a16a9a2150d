"""Read-only queries about alerts and deliveries. They never commit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .access import ensure_admin
from .errors import NotFound
from .models import (
    AlertOccurrence,
    Delivery,
    DeliveryOutcome,
    Incident,
    IncidentLabel,
    LabelKind,
    Source,
    Status,
    TimelineEntry,
    User,
)

OPEN_STATUSES = (Status.INVESTIGATING, Status.MITIGATED)


def occurrences_of_alerts(
    session: Session, *, source: Source, alert_keys: Sequence[str]
) -> dict[tuple[str, str], AlertOccurrence]:
    """The stored occurrences of these alerts, by (alert_key, occurrence_key): one query for a whole group."""
    if not alert_keys:
        return {}
    found = session.scalars(
        select(AlertOccurrence).where(AlertOccurrence.source == source, AlertOccurrence.alert_key.in_(set(alert_keys)))
    )
    return {(o.alert_key, o.occurrence_key): o for o in found}


def latest_occurrence(session: Session, *, source: Source, alert_key: str) -> AlertOccurrence | None:
    """The most recent occurrence of an alert, whatever its occurrence key."""
    return session.scalar(
        select(AlertOccurrence)
        .where(AlertOccurrence.source == source, AlertOccurrence.alert_key == alert_key)
        .order_by(AlertOccurrence.id.desc())
        .limit(1)
    )


def open_incident_for(
    session: Session, *, source: Source, dedup_key: str | None, service: str | None
) -> Incident | None:
    """The newest open incident already fed by the same dedup key, else one open for the same service."""
    newest = (Incident.started_at.desc(), Incident.id.desc())
    if dedup_key:
        same_key = exists(
            select(AlertOccurrence.id).where(
                AlertOccurrence.incident_id == Incident.id,
                AlertOccurrence.source == source,
                AlertOccurrence.dedup_key == dedup_key,
            )
        )
        found = session.scalar(
            select(Incident).where(Incident.status.in_(OPEN_STATUSES), same_key).order_by(*newest).limit(1)
        )
        if found is not None:
            return found
    if service:
        same_service = exists(
            select(IncidentLabel.id).where(
                IncidentLabel.incident_id == Incident.id,
                IncidentLabel.kind == LabelKind.SERVICE,
                IncidentLabel.value == service,
            )
        )
        return session.scalar(
            select(Incident).where(Incident.status.in_(OPEN_STATUSES), same_service).order_by(*newest).limit(1)
        )
    return None


def has_firing_alerts(session: Session, *, incident_id: int) -> bool:
    """Whether any alert occurrence of the incident is still firing."""
    return bool(
        session.scalar(
            select(
                exists().where(AlertOccurrence.incident_id == incident_id, AlertOccurrence.state == "firing")
            )
        )
    )


def entry_recorded(session: Session, *, source: Source, external_id: str) -> bool:
    """Whether the sender's event is on a timeline already."""
    return bool(
        session.scalar(
            select(exists().where(TimelineEntry.source == source, TimelineEntry.external_id == external_id))
        )
    )


def delivery_seen(session: Session, *, source: Source, delivery_key: str) -> bool:
    """Whether a delivery with this key was stored before."""
    return bool(
        session.scalar(select(exists().where(Delivery.source == source, Delivery.delivery_key == delivery_key)))
    )


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

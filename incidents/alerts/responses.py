"""What a responder did in the sender (acknowledged, wrote a note), on the incident its alert belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import EntryKind, Incident, utcnow
from . import rows
from .commands import ResponderAction, ResponseKind, sender_name
from .writes import KEY_MAX, add_entry, checked_link, clip, flush_writes, not_after


def apply_response(session: Session, action: ResponderAction) -> int | None:
    """Record what a responder did in the sender on the incident its alert belongs to; the incident's id."""
    flush_writes(session)
    incident_id = rows.latest_incident_of_alert(
        session, source=action.source, alert_key=clip(action.alert_key, KEY_MAX)
    )
    external_id = clip(action.event_id, KEY_MAX)
    if incident_id is None or rows.entry_recorded(session, source=action.source, external_id=external_id):
        return None
    now = utcnow()
    at = not_after(action.occurred_at or now, now)
    first_ack = action.kind is ResponseKind.ACKNOWLEDGED and _acknowledge(session, incident_id, at, now)
    add_entry(
        session,
        incident_id,
        source=action.source,
        kind=EntryKind.NOTE if action.kind is ResponseKind.NOTE else EntryKind.ACTION,
        text=action.text,
        occurred_at=at,
        actor_name=action.actor_name or sender_name(action.source),
        external_id=external_id,
        evidence_url=checked_link(action.link),
        is_key_moment=first_ack,
    )
    return incident_id


def _acknowledge(session: Session, incident_id: int, at: datetime, now: datetime) -> bool:
    """Take the first acknowledgement as the incident's acknowledged time; whether it was the first.

    A late acknowledgement after a person resolved the incident does not rewrite its key times.
    """
    incident = session.get(Incident, incident_id)
    if incident is None or incident.acknowledged_at is not None:
        return False
    ack = max(at, incident.detected_at or incident.started_at)
    if incident.resolved_at is not None and ack > incident.resolved_at:
        return False
    incident.acknowledged_at = ack
    incident.updated_at = now
    return True

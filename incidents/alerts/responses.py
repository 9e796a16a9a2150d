"""What a responder did in the sender (acknowledged, wrote a note), on the incident its alert belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .. import key_times, service
from ..accounts.service import person_known_as
from ..actors import Sender
from ..models import EntryKind, Incident, IncidentRole, Status, utcnow
from . import rows
from .commands import ResponderAction, ResponseKind, sender_name
from .rows import take_turn_on
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
    if action.kind is ResponseKind.ACKNOWLEDGED:
        # Two acknowledgements of one incident at once take turns, so only one of them is the first.
        take_turn_on(session, f"incident\x1f{incident_id}")
    first_ack = action.kind is ResponseKind.ACKNOWLEDGED and _acknowledge(session, incident_id, action, at)
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


def _acknowledge(session: Session, incident_id: int, action: ResponderAction, at: datetime) -> bool:
    """Take the first acknowledgement as the incident's acknowledged time; whether it was the first.

    Through the one writer of incident state, and only when it keeps the times in order: a late
    acknowledgement after a person resolved the incident does not rewrite its key times. The
    person who acknowledged, when Kintsugi knows them, takes command of an incident nobody commands.
    """
    incident = session.get(Incident, incident_id)
    if incident is None:
        return False
    sender = Sender(sender_name(action.source))
    first = incident.acknowledged_at is None and key_times.times_in_order(incident, {"acknowledged_at": at})
    if first:
        service.change(
            session, incident, actor=sender, source=action.source, changes={"acknowledged_at": at}, log_times=False
        )
    # Someone acknowledging an open incident nobody commands takes command; days later, on a closed
    # one, they only acknowledge.
    unheld = incident.status in (Status.INVESTIGATING, Status.MITIGATED) and not incident.holders(
        IncidentRole.COMMANDER
    )
    person = person_known_as(session, action.actor_name) if unheld else None
    if person is not None:
        service.change(
            session,
            incident,
            actor=sender,
            source=action.source,
            changes={"roles": {"commander": person.email}},
            because=f"{person.name} acknowledged, so takes command",
        )
    return first

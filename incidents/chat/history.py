"""Use case: ask for a linked channel's history to be read into the incident's chat log, for the
incident where nobody marked anything as it happened. The chat integration reads it after the answer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..access import ensure_can_see, ensure_can_write
from ..errors import Conflict, InvalidInput
from ..events import ChatHistoryRequested, has_subscribers, record_event
from ..models import Incident, User
from .queries import channels_of_incident
from .service import SOURCES


def request_chat_history(session: Session, *, actor: User, incident_id: int, provider: str) -> tuple[str, ...]:
    """Ask for the history of the incident's channels of this provider; the channels it will read.

    Reading twice changes nothing: each message is kept once, by its id in the channel.
    """
    ensure_can_write(actor)
    if provider not in SOURCES:
        raise InvalidInput(f"unknown chat provider {provider[:32]!r}", field="provider")
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    if not has_subscribers(session, ChatHistoryRequested):
        raise Conflict(f"{provider.capitalize()} is not set up here, so there is no channel history to read")
    channels = tuple(channels_of_incident(session, provider=provider, incident_id=incident.id))
    if not channels:
        raise Conflict(f"incident {incident.id} has no {provider.capitalize()} channel: link one first")
    record_event(
        session,
        ChatHistoryRequested(
            incident_id=incident.id, provider=provider, channel_ids=channels, actor_id=actor.id, actor_name=actor.name
        ),
    )
    session.commit()
    return channels

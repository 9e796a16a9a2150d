"""Link a chat channel to an incident. One transaction per use case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import validation
from ..access import ensure_can_see, ensure_can_write
from ..errors import Conflict, InvalidInput
from ..models import Incident, Source, User, utcnow
from ..timeline import NewEntry, record_entries
from .models import CHANNEL_ID_MAX, PROVIDER_MAX, ChatChannel

SOURCES = {"slack": Source.SLACK}


def link_channel(session: Session, *, actor: User, incident_id: int, provider: str, channel_id: str) -> ChatChannel:
    """Link the channel to the incident, moving it from the incident it spoke of before.

    Both timelines say so; linking a channel to the incident it is linked to already changes nothing.
    """
    ensure_can_write(actor)
    if provider not in SOURCES:
        raise InvalidInput(f"unknown chat provider {provider[:PROVIDER_MAX]!r}", field="provider")
    channel_id = validation.text(channel_id, field="channel_id", limit=CHANNEL_ID_MAX, required=True)
    incident = ensure_can_see(session.get(Incident, incident_id), actor, incident_id)
    source = SOURCES[provider]
    link = session.scalar(
        select(ChatChannel).where(ChatChannel.provider == provider, ChatChannel.channel_id == channel_id)
    )
    if link is not None and link.incident_id == incident.id:
        return link
    if link is None:
        link = ChatChannel(provider=provider, channel_id=channel_id, incident_id=incident.id)
        session.add(link)
    else:
        before = link.incident
        moved = NewEntry(text=f"The {provider} channel {channel_id} now speaks of incident {incident.id}.")
        record_entries(session, before, actor=actor, source=source, entries=[moved])
        link.incident_id = incident.id
    link.linked_at = utcnow()
    link.linked_by_id = actor.id
    linked = NewEntry(text=f"Linked the {provider} channel {channel_id} to this incident.")
    record_entries(session, incident, actor=actor, source=source, entries=[linked])
    try:
        session.commit()
    except IntegrityError:
        # Someone linked the same channel at the same moment: one link per channel.
        session.rollback()
        raise Conflict(f"the channel {channel_id} was linked by someone else a moment ago; try again") from None
    return link

"""Which incident a chat channel speaks of, its channels, and the messages posted about it. Read-only; never commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.models import ExternalIdentity
from ..models import Incident, IncidentRole, Status, User, Visibility
from .models import ChatChannel, ChatPost


def incident_of_channel(session: Session, *, provider: str, channel_id: str) -> int | None:
    """The id of the incident the channel is linked to, or None when it is linked to none.

    Only the id: whether the asker may see that incident is decided where it is read.
    """
    return session.scalar(
        select(ChatChannel.incident_id).where(ChatChannel.provider == provider, ChatChannel.channel_id == channel_id)
    )


def channels_of_incident(session: Session, *, provider: str, incident_id: int) -> list[str]:
    """The ids of the channels linked to an incident, in the order they were linked."""
    query = (
        select(ChatChannel.channel_id)
        .where(ChatChannel.provider == provider, ChatChannel.incident_id == incident_id)
        .order_by(ChatChannel.linked_at, ChatChannel.id)
    )
    return list(session.scalars(query))


def posts_of_incident(session: Session, *, provider: str, incident_id: int, purpose: str) -> list[ChatPost]:
    """The messages posted about an incident for one purpose (its headlines, its announcement)."""
    query = (
        select(ChatPost)
        .where(ChatPost.provider == provider, ChatPost.incident_id == incident_id, ChatPost.purpose == purpose)
        .order_by(ChatPost.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Person:
    """Someone in an incident's response, with their id in the chat workspace when Kintsugi knows it."""

    user_id: int
    name: str
    chat_id: str | None


@dataclass(frozen=True)
class IncidentFacts:
    """What a chat message about an incident shows, read afresh: a handler runs long after the change."""

    id: int
    title: str
    status: Status
    severity: str
    visibility: Visibility
    started_at: datetime
    declared_at: datetime
    declared_by: Person | None
    roles: dict[IncidentRole, list[Person]]
    durations: dict[str, timedelta | None] = field(default_factory=dict)

    @property
    def restricted(self) -> bool:
        """Whether only its participants (and admins) may know of it."""
        return self.visibility is Visibility.RESTRICTED


def incident_facts(session: Session, *, incident_id: int, issuer: str) -> IncidentFacts | None:
    """The incident as a chat message shows it, with each person's id at the chat `issuer`; None when it is gone."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        return None
    user_ids = {a.user_id for a in incident.assignments} | {incident.declared_by_id} - {None}
    rows = session.execute(
        select(ExternalIdentity.user_id, ExternalIdentity.subject)
        .where(ExternalIdentity.issuer == issuer, ExternalIdentity.user_id.in_(user_ids))
        .order_by(ExternalIdentity.id)
    )
    chat_ids = {user_id: subject for user_id, subject in rows}

    def person(user: User) -> Person:
        return Person(user_id=user.id, name=user.name, chat_id=chat_ids.get(user.id))

    roles = {role: [person(u) for u in incident.holders(role)] for role in IncidentRole}
    return IncidentFacts(
        id=incident.id,
        title=incident.title,
        status=incident.status,
        severity=incident.severity,
        visibility=incident.visibility,
        started_at=incident.started_at,
        declared_at=incident.declared_at,
        declared_by=person(incident.declared_by) if incident.declared_by is not None else None,
        roles=roles,
        durations=incident.durations(),
    )

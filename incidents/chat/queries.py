"""Which incident a chat channel speaks of, its channels, its chat log, and the messages posted about it.
Read-only; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import ensure_can_see
from ..accounts.models import ExternalIdentity
from ..events import ChatHistoryRequested, has_subscribers
from ..models import Incident, IncidentRole, Status, User, Visibility
from .models import ChatChannel, ChatDelivery, ChatMessage, ChatPost


def incident_of_channel(session: Session, *, provider: str, channel_id: str) -> int | None:
    """The id of the incident the channel is linked to, or None when it is linked to none.

    Only the id: whether the asker may see that incident is decided where it is read.
    """
    return session.scalar(
        select(ChatChannel.incident_id).where(ChatChannel.provider == provider, ChatChannel.channel_id == channel_id)
    )


def chat_log(
    session: Session, *, viewer: User, incident_id: int, limit: int, before: datetime | None = None
) -> Sequence[ChatMessage]:
    """The incident's chat log, newest first, without deleted messages; NotFound for one the viewer may not see."""
    ensure_can_see(session.get(Incident, incident_id), viewer, incident_id)
    query = select(ChatMessage).where(ChatMessage.incident_id == incident_id, ChatMessage.deleted_at.is_(None))
    if before is not None:
        query = query.where(ChatMessage.posted_at < before)
    return session.scalars(query.order_by(ChatMessage.posted_at.desc(), ChatMessage.id.desc()).limit(limit)).all()


def delivery_seen(session: Session, *, provider: str, delivery_key: str) -> bool:
    """Whether a delivery with this key was kept before (a workspace retrying an event)."""
    found = session.scalar(
        select(ChatDelivery.id).where(ChatDelivery.provider == provider, ChatDelivery.delivery_key == delivery_key)
    )
    return found is not None


def message_known(session: Session, *, provider: str, channel_id: str, ts: str) -> bool:
    """Whether the chat log holds this message (deleted or not)."""
    found = session.scalar(
        select(ChatMessage.id).where(
            ChatMessage.provider == provider, ChatMessage.channel_id == channel_id, ChatMessage.ts == ts
        )
    )
    return found is not None


@dataclass(frozen=True)
class ChatPanel:
    """What the incident page shows of its chat: the linked channels, the latest messages (oldest
    first), how many the log holds, and whether a chat integration can read a channel's history."""

    channels: Sequence[ChatChannel]
    messages: Sequence[ChatMessage]
    total: int
    can_read_history: bool


def chat_panel(session: Session, *, viewer: User, incident_id: int, shown: int = 20) -> ChatPanel:
    """The incident's chat, as its page shows it (NotFound for one the viewer may not see)."""
    latest = chat_log(session, viewer=viewer, incident_id=incident_id, limit=shown)
    channels = session.scalars(
        select(ChatChannel).where(ChatChannel.incident_id == incident_id).order_by(ChatChannel.linked_at)
    ).all()
    total = session.scalar(
        select(func.count(ChatMessage.id)).where(
            ChatMessage.incident_id == incident_id, ChatMessage.deleted_at.is_(None)
        )
    )
    return ChatPanel(
        channels=channels,
        messages=list(reversed(latest)),
        total=total or 0,
        can_read_history=has_subscribers(session, ChatHistoryRequested),
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

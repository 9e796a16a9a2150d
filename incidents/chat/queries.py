"""Which incident a chat channel speaks of. Read-only; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import ensure_can_see
from ..events import ChatHistoryRequested, has_subscribers
from ..models import Incident, User
from .models import ChatChannel, ChatDelivery, ChatMessage


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

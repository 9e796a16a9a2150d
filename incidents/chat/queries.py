"""Which incident a chat channel speaks of. Read-only; never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ChatChannel


def incident_of_channel(session: Session, *, provider: str, channel_id: str) -> int | None:
    """The id of the incident the channel is linked to, or None when it is linked to none.

    Only the id: whether the asker may see that incident is decided where it is read.
    """
    return session.scalar(
        select(ChatChannel.incident_id).where(ChatChannel.provider == provider, ChatChannel.channel_id == channel_id)
    )

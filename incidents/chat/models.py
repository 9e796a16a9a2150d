"""Typed models of chat channels linked to incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Incident, User, UTCDateTime, utcnow

PROVIDER_MAX = 32
CHANNEL_ID_MAX = 255


class ChatChannel(Base):
    """A chat channel linked to the incident worked in it; a channel speaks of one incident at a time."""

    __tablename__ = "chat_channels"
    # One incident per channel: linking the channel again moves it.
    __table_args__ = (UniqueConstraint("provider", "channel_id", name="uq_chat_channels_provider_channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(PROVIDER_MAX))
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_ID_MAX))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    incident: Mapped[Incident] = relationship()
    linked_by: Mapped[User | None] = relationship()

"""Typed models of chat channels linked to incidents, and of the messages Kintsugi posted about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Incident, User, UTCDateTime, utcnow

PROVIDER_MAX = 32
CHANNEL_ID_MAX = 255
MESSAGE_ID_MAX = 64
DIGEST_MAX = 64
# What a post is for: the headline kept up to date in an incident's channel, or the one
# announcement of the incident in the channel where incidents are announced.
HEADLINE = "headline"
ANNOUNCEMENT = "announcement"
PURPOSES = (HEADLINE, ANNOUNCEMENT)


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


class ChatPost(Base):
    """A message Kintsugi posted about an incident in a chat channel, remembered so that it is edited
    rather than posted again: a retried post finds it, and a change edits it in place.

    `message_id` is the chat service's id of the message (Slack's ts); `digest` fingerprints what
    the message shows now, so an edit that would change nothing is not sent.
    """

    __tablename__ = "chat_posts"
    __table_args__ = (
        UniqueConstraint(
            "provider", "channel_id", "incident_id", "purpose", name="uq_chat_posts_provider_channel_incident_purpose"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(PROVIDER_MAX))
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_ID_MAX))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_MAX))
    digest: Mapped[str] = mapped_column(String(DIGEST_MAX))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

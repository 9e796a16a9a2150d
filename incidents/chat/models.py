"""Typed models of chat channels linked to incidents, of what is said in them, and of the messages
Kintsugi posted about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import NAME_MAX, URL_MAX, Base, Incident, TimelineEntry, User, UTCDateTime, utcnow

PROVIDER_MAX = 32
CHANNEL_ID_MAX = 255
DELIVERY_KEY_MAX = 255
TS_MAX = 32
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


class ChatDelivery(Base):
    """A chat workspace's event about a linked channel, kept raw as it came: its id makes a retry a no-op."""

    __tablename__ = "chat_deliveries"
    __table_args__ = (UniqueConstraint("provider", "delivery_key", name="uq_chat_deliveries_provider_delivery_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(PROVIDER_MAX))
    # The workspace's own id of the event (Slack's event_id).
    delivery_key: Mapped[str] = mapped_column(String(DELIVERY_KEY_MAX))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class ChatMessage(Base):
    """One message of a linked channel, as the incident's chat log keeps it: what it says now, and
    whether it was deleted. A message marked as a key moment points at the timeline entry it became."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        # A message's identity in its workspace: a second delivery of it is the same row.
        UniqueConstraint("provider", "channel_id", "ts", name="uq_chat_messages_provider_channel_id_ts"),
        Index("ix_chat_messages_incident_id_posted_at", "incident_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(PROVIDER_MAX))
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_ID_MAX))
    # Slack's ts: a string id ("1732255380.000200"), never a float.
    ts: Mapped[str] = mapped_column(String(TS_MAX))
    thread_ts: Mapped[str | None] = mapped_column(String(TS_MAX))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author_key: Mapped[str] = mapped_column(String(CHANNEL_ID_MAX), default="")
    author_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"name": ..., "url": ...}] for each file shared with the message.
    files: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    permalink: Mapped[str | None] = mapped_column(String(URL_MAX))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who marked it a key moment, as "pin" and "pushpin:U123": the entry stands while one mark does.
    marks: Mapped[list[str]] = mapped_column(JSON, default=list)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entries.id", ondelete="SET NULL"))

    entry: Mapped[TimelineEntry | None] = relationship()


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

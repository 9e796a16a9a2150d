"""Typed models of pager deliveries, kept raw, and the alert occurrences they report."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..models import LABEL_MAX, TITLE_MAX, Base, Source, UTCDateTime, enum_column, utcnow


class DeliveryOutcome(enum.StrEnum):
    """What came of a sender's delivery: applied, understood but ignored, or not understood (kept to replay)."""

    APPLIED = "applied"
    IGNORED = "ignored"
    UNDECIPHERABLE = "undecipherable"


class Delivery(Base):
    """A pager or alerting tool's webhook delivery, kept raw so that none is ever lost."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("source", "delivery_key", name="uq_deliveries_source_delivery_key"),
        Index("ix_deliveries_outcome_id", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[Source] = mapped_column(enum_column(Source))
    # The sender's own delivery id (PagerDuty's X-Webhook-Id), else a hash of the body.
    delivery_key: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[DeliveryOutcome] = mapped_column(enum_column(DeliveryOutcome))
    problem: Mapped[str] = mapped_column(Text, default="")
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertOccurrence(Base):
    """One occurrence of an alert (fired, perhaps resolved), and the incident it belongs to if any."""

    __tablename__ = "alert_occurrences"
    __table_args__ = (
        # alert_key first: a delivery looks its alerts up by alert_key = ANY(...) (migration 0007).
        UniqueConstraint("alert_key", "source", "occurrence_key", name="uq_alert_occurrences_alert_key"),
        Index("ix_alert_occurrences_incident_id_dedup_key", "incident_id", "dedup_key"),
        Index("ix_alert_occurrences_dedup_key", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[Source] = mapped_column(enum_column(Source))
    alert_key: Mapped[str] = mapped_column(String(255))
    occurrence_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(TITLE_MAX))
    service: Mapped[str | None] = mapped_column(String(LABEL_MAX))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

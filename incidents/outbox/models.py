"""The outbox table: one row per (event, subscribed handler), written with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, UTCDateTime, utcnow

# A row's life: pending (perhaps leased to a worker, perhaps waiting out a backoff), then applied,
# or parked after its last attempt until an admin retries it (pending again).
PENDING = "pending"
APPLIED = "applied"
PARKED = "parked"
STATES = (PENDING, APPLIED, PARKED)


class OutboxRow(Base):
    """An effect owed to one handler: the event (type and JSON payload) and how its delivery is going.

    `available_at` is the earliest time a worker may claim the row. Claiming sets it to the end of
    the worker's lease (and `claimed_by`), so a row whose worker was killed becomes claimable again
    by the same query that finds new rows; a failure sets it to the end of the backoff. Applied
    rows are kept, with `finished_at`, for a week by default (OUTBOX_KEEP_APPLIED_SECONDS) so that
    status shows what flowed and "was it applied?" has an answer; the worker prunes them.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim: state = pending AND available_at <= now ORDER BY available_at, id.
        Index("ix_outbox_state_available_at", "state", "available_at", "id"),
        # The oldest pending row (/healthz), the parked list (newest first), counts and pruning.
        Index("ix_outbox_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    handler: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Claims so far, counted when claimed: a worker killed by its handler every time still ends parked.
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The table itself, for Core statements on the hot paths (recording, marking results).
OUTBOX_TABLE = cast(Table, OutboxRow.__table__)

"""What a pager delivery writes, held until just before anything reads those tables, then one statement per table.

Also the small rules every row of a delivery follows: text clipped to what the database takes,
sender times no later than now, links checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .. import validation
from ..actors import cut, storable
from ..errors import InvalidInput
from ..models import NAME_MAX, TEXT_MAX, EntryKind, Source, utcnow
from ..rendering import stored_html
from . import rows
from .commands import sender_name
from .grouping import grouped

KEY_MAX = 255
PENDING = "kintsugi.alert_writes"


@dataclass
class KnownOccurrence:
    """An alert occurrence as this delivery knows it: read from the database, or new in this delivery."""

    alert_key: str
    occurrence_key: str
    state: str
    incident_id: int | None
    # The row to insert, while its insert is pending.
    new_row: dict[str, Any] | None = None


@dataclass
class DeliveryWrites:
    """What this delivery writes, one statement per table, just before anything reads those tables."""

    occurrences: list[KnownOccurrence] = field(default_factory=list)
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    # Evidence entries of this delivery, by key; one written before is skipped by the insert.
    evidence: set[str] = field(default_factory=set)
    # The incidents this delivery wrote entries to, and by which sender: each gets one event.
    timelines: dict[int, Source] = field(default_factory=dict)


def start_writes(session: Session) -> None:
    """Begin a delivery's writes afresh (a retried attempt too)."""
    session.info[PENDING] = DeliveryWrites()


def writes_of(session: Session) -> DeliveryWrites:
    """What the session's delivery has yet to write."""
    pending: DeliveryWrites = session.info.setdefault(PENDING, DeliveryWrites())
    return pending


def flush_writes(session: Session) -> None:
    """Write what is pending, before anything reads those tables."""
    pending = writes_of(session)
    if pending.occurrences:
        rows.insert_occurrences(session, [o.new_row for o in pending.occurrences if o.new_row is not None])
        for occurrence in pending.occurrences:
            occurrence.new_row = None
        pending.occurrences = []
    if pending.resolutions:
        rows.resolve_occurrences(session, pending.resolutions)
        pending.resolutions = []
    if pending.entries:
        entries = grouped(pending.entries)
        for entry in entries:
            # Written in bulk past the model: rendered here, as the model renders its own.
            entry["text_html"] = stored_html(entry["text"])
        rows.insert_entries(session, entries)
        pending.entries = []


def add_entry(
    session: Session,
    incident_id: int,
    *,
    source: Source,
    kind: EntryKind,
    text: str,
    occurred_at: datetime,
    actor_name: str,
    external_id: str,
    evidence_url: str | None = None,
    is_key_moment: bool = False,
) -> None:
    """Add a timeline entry for a sender's event; evidence_url is checked by the caller (checked_link).

    The caller knows the event is new: an occurrence's state changed, or (for responder actions) it
    looked. An entry whose (source, external_id) is on a timeline already is skipped when written:
    evidence recorded before, or a concurrent twin (whose occurrence insert then fails, and the
    delivery starts over).
    """
    pending = writes_of(session)
    pending.timelines.setdefault(incident_id, source)
    pending.entries.append(
        {
            "incident_id": incident_id,
            "occurred_at": occurred_at,
            "recorded_at": utcnow(),
            "source": source,
            "kind": kind,
            "actor_id": None,
            "actor_name": clip(actor_name, NAME_MAX),
            "text": cut(text, TEXT_MAX) or f"{sender_name(source)} event",
            "evidence_url": evidence_url,
            "is_key_moment": is_key_moment,
            "external_id": clip(external_id, KEY_MAX),
        }
    )


def not_after(value: datetime, now: datetime) -> datetime:
    """A sender's time, pulled back to now when its clock runs ahead of ours."""
    return min(value, now)


def checked_link(value: str | None) -> str | None:
    try:
        return validation.link(clip(value or "", 2000), field="link")
    except InvalidInput:
        return None


def clip(value: str, limit: int) -> str:
    """A key or name as a database takes it (storable), cut to the limit without a mark."""
    return storable(value)[:limit]

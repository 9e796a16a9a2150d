"""The rules of an incident's key times: the one order they keep, the times a status implies, and how they read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from .errors import InvalidInput
from .models import Incident, Status, key_time_conflicts

# The key time a status sets when an incident first reaches it.
STATUS_TIMES = {
    Status.MITIGATED: "mitigated_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
}


def move_status(
    old: Status,
    new: Status,
    times: dict[str, datetime | None],
    closed_at: datetime | None,
    given: Mapping[str, datetime | None],
    now: datetime,
    *,
    fill: bool = True,
) -> tuple[datetime | None, str]:
    """Fill or clear the key times a status change implies; returns closed_at and the log line.

    fill=False for a record written after the fact: a time the record does not state stays unset
    rather than becoming the moment it was written down (closed_at is that moment all the same).
    """
    if new.rank > old.rank:
        for status, name in STATUS_TIMES.items():
            if status.rank <= new.rank:
                if name == "closed_at":
                    closed_at = closed_at or now
                elif times[name] is None and fill:
                    times[name] = now
        return closed_at, f"Status changed from {old.value} to {new.value}."
    cleared = []
    for status, name in STATUS_TIMES.items():
        if status.rank > new.rank:
            if name == "closed_at":
                closed_at = None
            elif times[name] is not None and name not in given:
                cleared.append(f"{label(name)} was {when(times[name])}")
                times[name] = None
    detail = f" Cleared: {'; '.join(cleared)}." if cleared else ""
    return closed_at, f"Reopened: status changed from {old.value} to {new.value}.{detail}"


def check_order(times: Mapping[str, datetime | None]) -> None:
    """Refuse key times out of order, naming both fields and their times."""
    conflicts = key_time_conflicts(dict(times))
    if conflicts:
        first, second = conflicts[0]
        raise InvalidInput(
            f"{second} ({when(times[second])}) must not be before {first} ({when(times[first])})",
            field=second,
        )


def label(name: str) -> str:
    """A key time as people name it ("Detected time")."""
    return name.removesuffix("_at").capitalize() + " time"


def when(value: datetime | None) -> str:
    """A key time as the timeline states it, in UTC with the date; "unset" when there is none."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "unset"


def times_in_order(incident: Incident, times: Mapping[str, datetime]) -> bool:
    """Whether setting these key times keeps the incident's times in order (the one rule change() checks)."""
    return not key_time_conflicts({**incident.key_times(), **times})

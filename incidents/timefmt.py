"""Times and durations as people read them: in their own zone, always with the date and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import InvalidInput
from .validation import zone as known_zone


def local(value: datetime | None, zone: str, fmt: str = "%a %Y-%m-%d %H:%M %Z") -> str:
    """The time in the zone, with date and abbreviation; an em dash when unknown."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def duration(value: timedelta | None) -> str:
    """A duration as days, hours and minutes ('2d 3h 05m'); an em dash when unknown."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes, secs = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{sign}{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def from_wall_clock(value: datetime, zone: str, *, field: str) -> datetime:
    """A naive wall-clock time read in the zone, as aware UTC; a time the zone skips is refused."""
    tz = ZoneInfo(known_zone(zone, field=field))
    aware = value.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != value:
        raise InvalidInput(f"{value:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it)", field=field)
    return aware.astimezone(UTC)


def start_of_day(midnight: datetime, zone: str) -> datetime:
    """A naive midnight read in the zone, as aware UTC (a midnight the clocks skip maps just past it)."""
    return midnight.replace(tzinfo=ZoneInfo(known_zone(zone))).astimezone(UTC)


def age(value: datetime | None) -> str:
    """How long ago, in the duration style ('3h 05m')."""
    if value is None:
        return "—"
    return duration(datetime.now(UTC) - value)


def wall_clock_value(value: datetime | None, zone: str) -> datetime | None:
    """A stored time as the naive wall-clock time a form shows in the zone."""
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if value is not None else None

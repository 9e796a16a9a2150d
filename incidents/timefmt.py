"""Times and durations as people read them: in their own zone, always with the date and zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from .errors import BadRequest, InvalidInput
from .validation import time_in_range
from .validation import zone as known_zone


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """The time in the zone; in UTC if the zone would take it past year 1 or 9999 (kept before that was refused)."""
    try:
        return value.astimezone(zone)
    except OverflowError:
        return value.astimezone(UTC)


def local(value: datetime | None, zone: str, fmt: str = "%a %Y-%m-%d %H:%M %Z") -> str:
    """The time in the zone, with date and abbreviation; an em dash when unknown."""
    if value is None:
        return "—"
    return in_zone(value, ZoneInfo(zone)).strftime(fmt)


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
    utc = time_in_range(value.replace(tzinfo=tz), field=field)
    if utc.astimezone(tz).replace(tzinfo=None) != value:
        raise InvalidInput(f"{value:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it)", field=field)
    return utc


def start_of_day(day: date, zone: str, *, field: str, days_after: int = 0) -> datetime:
    """Midnight days_after the day, read in the zone, as aware UTC (a midnight the clocks skip maps just past it)."""
    try:
        midnight = datetime.combine(day + timedelta(days=days_after), time())
    except OverflowError:
        raise BadRequest(f"{field} {day.isoformat()} is too late a day", field=field) from None
    return time_in_range(midnight.replace(tzinfo=ZoneInfo(known_zone(zone))), field=field)


def age(value: datetime | None) -> str:
    """How long ago, in the duration style ('3h 05m')."""
    if value is None:
        return "—"
    return duration(datetime.now(UTC) - value)


def wall_clock_value(value: datetime | None, zone: str) -> datetime | None:
    """A stored time as the naive wall-clock time a form shows in the zone."""
    return in_zone(value, ZoneInfo(zone)).replace(tzinfo=None) if value is not None else None

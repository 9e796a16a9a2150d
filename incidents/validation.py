"""Rules for the values people give: lengths, links, labels, times, zones and record ids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from .errors import BadRequest, InvalidInput
from .models import INT_MAX, LABEL_MAX, URL_MAX, utcnow

# Clocks disagree a little; a time this far ahead of ours is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
LABELS_MAX = 50
# The longest IANA name is 32 characters ("America/Argentina/ComodRivadavia").
ZONE_MAX = 64
# Every time kept can be shown in every zone (offsets stay under a day): Python's years 1 to 9999, less a day.
TIME_MIN = datetime(1, 1, 2, tzinfo=UTC)
TIME_MAX = datetime(9999, 12, 30, tzinfo=UTC)
OUT_OF_RANGE = "is out of range: times must fall between 0001-01-02 and 9999-12-30"


def text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    """The text stripped, refused when too long or (if required) empty."""
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} must be at most {limit} characters (got {len(value)})", field=field)
    return value


def link(value: str | None, *, field: str) -> str | None:
    """An http(s) link, or None when empty; any other scheme is refused."""
    if value is None or not value.strip():
        return None
    value = text(value, field=field, limit=URL_MAX)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{field} must be an http or https link", field=field)
    return value


def labels(values: Iterable[str], *, field: str) -> list[str]:
    """Distinct, stripped, non-empty labels in the order given."""
    seen: dict[str, None] = {}
    for raw in values:
        value = text(raw, field=field, limit=LABEL_MAX)
        if value:
            seen.setdefault(value, None)
    if len(seen) > LABELS_MAX:
        raise InvalidInput(f"{field} may hold at most {LABELS_MAX} values", field=field)
    return list(seen)


def past_time(value: datetime, *, field: str) -> datetime:
    """An aware time that is not in the future, in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} must carry a UTC offset", field=field)
    value = time_in_range(value, field=field)
    if value > utcnow() + CLOCK_SKEW:
        raise InvalidInput(f"{field} is in the future", field=field)
    return value


def as_utc(value: datetime) -> datetime:
    """An aware time in UTC; ValueError when it falls outside the years every zone can show.

    Converting 0001-01-01T00:00:00+01:00 to UTC overflows Python's calendar, and a stored time
    within hours of its ends overflows when a page shows it in another zone.
    """
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None
    if not TIME_MIN <= utc <= TIME_MAX:
        raise ValueError(OUT_OF_RANGE)
    return utc


def time_in_range(value: datetime, *, field: str) -> datetime:
    """An aware time in UTC, refused (400, naming the field) outside the years every zone can show."""
    try:
        return as_utc(value)
    except ValueError as exc:
        raise BadRequest(f"{field} {exc}", field=field) from None


def is_zone(name: str) -> bool:
    """Whether the name is a time zone the system knows (not a folder or a file of its tz database)."""
    return 0 < len(name) <= ZONE_MAX and name in _known_zones()


@cache
def _known_zones() -> frozenset[str]:
    # Read once, on first use: ZoneInfo(name) itself opens a file named by the caller, and a
    # folder ("Europe") or an over-long name is an OSError there rather than an unknown zone.
    return frozenset(available_timezones())


def zone(name: str, *, field: str = "timezone") -> str:
    """A known IANA time zone name; anything else is unreadable (400)."""
    if not is_zone(name):
        raise BadRequest(f"unknown time zone {name[:ZONE_MAX]!r}", field=field)
    return name


def record_id(value: str | None, *, field: str) -> int:
    """A record's id as a form sends it: ASCII digits within what the database stores; else a 400 naming the field."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= len(str(INT_MAX)) and int(text) <= INT_MAX:
        return int(text)
    raise BadRequest(f"{field} {text[:20]!r} is not the id of a record", field=field)

"""Rules for the values people give: lengths, links, labels, times and zones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidInput
from .models import LABEL_MAX, URL_MAX, utcnow

# Clocks disagree a little; a time this far ahead of ours is still accepted.
CLOCK_SKEW = timedelta(minutes=5)
LABELS_MAX = 50


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
    if value > utcnow() + CLOCK_SKEW:
        raise InvalidInput(f"{field} is in the future", field=field)
    return value.astimezone(UTC)


def zone(name: str, *, field: str = "timezone") -> str:
    """A known IANA time zone name."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name[:64]!r}", field=field) from None
    return name

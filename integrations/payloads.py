"""Reading senders' JSON leniently: objects, strings, label maps and times, with a reason when it fails."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from incidents.validation import as_utc

# Epoch numbers: seconds, milliseconds, microseconds or nanoseconds, told apart by size.
_EPOCH_DIVISORS = ((10**17, 10**9), (10**14, 10**6), (10**11, 10**3), (0, 1))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Unreadable(Exception):
    """A payload, or a part of it, does not say what its sender documents."""


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, its texts as a database takes them (NUL dropped, lone surrogates replaced)."""
    try:
        payload = json.loads(body, parse_constant=_not_json)
    except RecursionError:
        raise Unreadable("the body nests too deeply to be read") from None
    except ValueError as exc:
        raise Unreadable(f"the body is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise Unreadable(f"the body is JSON but not an object (it is a {type(payload).__name__})")
    # Only an escape writes a NUL or a lone surrogate into a JSON string: look for one before walking it all.
    if _UNSTORABLE_ESCAPE.search(body):
        mended: dict[str, Any] = _storable(payload)
        return mended
    return payload


# \u0000, and \ud800 to \udfff (a surrogate is only valid in a pair, which json.loads joins).
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(0000|[dD][89a-fA-F])")


def _not_json(constant: str) -> Any:
    # Python's json reads NaN, Infinity and -Infinity; JSON has no such numbers and no sender documents them.
    raise ValueError(f"{constant} is not a JSON number")


def _storable(value: Any) -> Any:
    """A sender's JSON with every text, keys too, as a database takes it: PostgreSQL refuses NUL in text
    and cannot encode a lone surrogate. A sender is not refused for it, its text is mended."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def text(value: Any) -> str:
    """A string field as text; numbers become their digits, anything else is empty."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def obj(value: Any) -> dict[str, Any]:
    """An object field, or empty when absent or of another type."""
    return value if isinstance(value, dict) else {}


def labels(value: Any, *, field: str) -> dict[str, str]:
    """A map of label names to values; absent means none."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unreadable(f"{field} must be an object of names to values")
    # JSON names are strings already; values nearly always are.
    return {str(k): v.strip() if type(v) is str else text(v) for k, v in value.items()}


def sender_time(value: Any, *, field: str) -> datetime | None:
    """An RFC 3339 time or an epoch number as aware UTC; None when absent or year 1 (Go's zero time, "no end")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Unreadable(f"{field} must be a time, not a boolean")
    if isinstance(value, (int, float)):
        return _epoch_time(value, field)
    if not isinstance(value, str):
        raise Unreadable(f"{field} must be an RFC 3339 time")
    try:
        return _rfc3339_time(value)
    except ValueError as exc:
        raise Unreadable(f"{field} {value[:40]!r} {exc}") from None


def _epoch_time(value: int | float, field: str) -> datetime:
    for threshold, divisor in _EPOCH_DIVISORS:
        if abs(value) >= threshold:
            try:
                if isinstance(value, int):
                    # Integer arithmetic: a float would round nanoseconds into the wrong microsecond.
                    whole, part = divmod(value, divisor)
                    return as_utc(EPOCH + timedelta(seconds=whole, microseconds=part * 1_000_000 // divisor))
                return as_utc(datetime.fromtimestamp(value / divisor, UTC))
            except (OverflowError, OSError, ValueError):
                raise Unreadable(f"{field} {value!r} is not a time we can represent") from None
    # Only NaN compares false with every threshold (json_object refuses it; a caller may not have).
    raise Unreadable(f"{field} {value!r} is not a time")


@lru_cache(maxsize=4096)
def _rfc3339_time(value: str) -> datetime | None:
    """The time a string says, or None for Go's zero time; ValueError says what is wrong.

    Cached (a failure is not): a group repeats the same startsAt and endsAt across its alerts and re-sends.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("is not an RFC 3339 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("carries no UTC offset")
    if parsed.year <= 1:
        return None
    return as_utc(parsed)


def short_key(value: str, limit: int) -> str:
    """The value if it fits the limit, else a stable hash of it."""
    return value if len(value) <= limit else hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:limit]


def body_key(body: bytes) -> str:
    """A delivery key for senders without delivery ids: identical re-sends share it."""
    return "sha256:" + hashlib.sha256(body).hexdigest()

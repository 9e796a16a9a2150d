"""Which zone a reader sees times in: UTC when they asked for it, else their chosen zone, else their browser's."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import unquote

from flask import g, request, session
from flask_login import current_user

from .timefmt import from_wall_clock
from .validation import is_zone

BROWSER_ZONE_COOKIE = "kintsugi_tz"
UTC_VIEW = "utc"


def display_zone() -> str:
    """The zone to show times in on this page."""
    override: str | None = g.get("display_zone")
    if override:
        return override
    if session.get("zone_view") == UTC_VIEW:
        return "UTC"
    return own_zone()


def own_zone() -> str:
    """The reader's own zone: their profile's, else what their browser reported, else UTC."""
    if current_user and current_user.is_authenticated and current_user.timezone:
        zone: str = current_user.timezone
        return zone
    return browser_zone() or "UTC"


def browser_zone() -> str | None:
    """The zone the reader's browser reported (a cookie set by kintsugi.js), if it is a real zone."""
    # kintsugi.js writes the name URL-encoded ("America%2FNew_York"); werkzeug hands it over as is.
    name = unquote(request.cookies.get(BROWSER_ZONE_COOKIE, ""))
    return name if is_zone(name) else None


def showing_utc() -> bool:
    """Whether the reader switched every page to UTC."""
    return session.get("zone_view") == UTC_VIEW


def wall_clock(value: datetime | None, field: str) -> datetime | None:
    """A wall-clock time typed in a form, read in the zone the reader sees times in."""
    return from_wall_clock(value, display_zone(), field=field) if value else None

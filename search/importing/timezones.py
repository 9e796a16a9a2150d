"""Time zones as post-mortems state them: "All times in CET", "(PST)", "UTC+2", "Europe/Oslo".

An abbreviation of a standard time names its region's clock (people write "CET" in June and mean
the clock on the wall, which IANA's zones follow); one of a daylight time ("PDT", "CEST") is taken
at its fixed offset, since whoever writes it means exactly that.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REGIONS = {
    "UTC": "UTC",
    "GMT": "UTC",
    "Z": "UTC",
    "CET": "Europe/Paris",
    "MET": "Europe/Paris",
    "MEZ": "Europe/Berlin",
    "EET": "Europe/Athens",
    "WET": "Europe/Lisbon",
    "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata",
    "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "AEST": "Australia/Sydney",
    "ACST": "Australia/Adelaide",
    "AWST": "Australia/Perth",
    "NZST": "Pacific/Auckland",
    "PST": "America/Los_Angeles",
    "PT": "America/Los_Angeles",
    "MST": "America/Denver",
    "MT": "America/Denver",
    "CST": "America/Chicago",
    "CT": "America/Chicago",
    "EST": "America/New_York",
    "ET": "America/New_York",
    "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "BRT": "America/Sao_Paulo",
}
DAYLIGHT = {
    "CEST": 2,
    "MESZ": 2,
    "EEST": 3,
    "WEST": 1,
    "BST": 1,
    "AEDT": 11,
    "NZDT": 13,
    "PDT": -7,
    "MDT": -6,
    "CDT": -5,
    "EDT": -4,
    "AKDT": -8,
}
PHRASES = {
    "coordinated universal time": "UTC",
    "universal time": "UTC",
    "central european summer time": "CEST",
    "central european time": "CET",
    "eastern european time": "EET",
    "pacific daylight time": "PDT",
    "pacific standard time": "PST",
    "pacific time": "PT",
    "mountain time": "MT",
    "central time": "CT",
    "eastern daylight time": "EDT",
    "eastern standard time": "EST",
    "eastern time": "ET",
    "british summer time": "BST",
    "india standard time": "IST",
    "japan standard time": "JST",
}
_NAMES = "|".join(sorted((*REGIONS, *DAYLIGHT), key=len, reverse=True))
# An abbreviation in capitals (so "et" and "it" in a sentence are words, not zones), perhaps with an offset.
ABBREVIATION = re.compile(rf"(?<![A-Za-z])({_NAMES})(?:\s*([+-])\s*(\d{{1,2}})(?::?(\d{{2}}))?)?(?![A-Za-z])")
OFFSET = re.compile(r"(?<![\w:])([+-])(\d{2}):?(\d{2})(?!\d)")
IANA = re.compile(
    r"\b((?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z_]+(?:/[A-Za-z_]+)?)"
)
PHRASE = re.compile("|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True)), re.IGNORECASE)
STATEMENT = re.compile(r"\b(times?|timezone|time zone|zone|clock|hours?)\b", re.IGNORECASE)


def zone_named(text: str) -> str | None:
    """The zone a piece of text names ("CET", "(PST)", "UTC+2", "Pacific Time", "Europe/Oslo"), as a key
    `zone_info` takes, or None."""
    found = IANA.search(text)
    if found and _known(found.group(1)):
        return found.group(1)
    phrase = PHRASE.search(text)
    if phrase:
        return PHRASES[phrase.group(0).lower()]
    match = ABBREVIATION.search(text)
    if match is None:
        return None
    name, sign, hours, minutes = match.groups()
    if sign and name in ("UTC", "GMT"):
        return f"{sign}{int(hours):02d}:{minutes or '00'}"
    return name


def zone_stated(text: str) -> str | None:
    """The zone a sentence states for the times around it ("All times in CET", "times are UTC"), or None.

    Only a sentence about times counts, or a short parenthesis such as "(PST)".
    """
    bracketed = re.fullmatch(r"\s*[(\[][^()\[\]]{1,40}[)\]]\s*[.:]?\s*", text)
    if STATEMENT.search(text) or bracketed or re.fullmatch(r"\s*[A-Z]{2,5}\s*[.:]?\s*", text):
        return zone_named(text)
    return None


def zone_info(name: str) -> tzinfo:
    """The tzinfo of a zone `zone_named` gave."""
    if name in DAYLIGHT:
        return timezone(timedelta(hours=DAYLIGHT[name]), name)
    if name in REGIONS:
        return ZoneInfo(REGIONS[name])
    offset = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    return ZoneInfo(name)


def iana_name(name: str | None) -> str | None:
    """The IANA zone to show the incident's times in, when the stated zone is one (not a bare offset)."""
    if name is None:
        return None
    if name in REGIONS:
        return REGIONS[name]
    return name if "/" in name else None


def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True

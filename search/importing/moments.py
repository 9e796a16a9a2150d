"""Dates and times as people type them in timelines, read without guessing.

`read_moment` finds the date, the time and the zone a piece of text starts with. What cannot be
read exactly (a "??" minute, "HH:mm" left from a template, a five-digit year that no context
settles) is said so, never filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from .timezones import ABBREVIATION, IANA

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
_ORD = r"(?:st|nd|rd|th)?"
ISO_DATE = re.compile(r"(?P<year>\d{4,5})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)")
NUMERIC_DATE = re.compile(r"(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<year>\d{4}|\d{2})(?!\d)")
DAY_MONTH = re.compile(rf"{_WEEKDAY}(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH},?(?:\s+(?P<year>\d{{4}}))?", re.I)
MONTH_DAY = re.compile(rf"{_WEEKDAY}{_MONTH}\s+(?P<d>\d{{1,2}}){_ORD}(?!\d)(?:,?\s+(?P<year>\d{{4}}))?", re.I)
PLACEHOLDER_DATE = re.compile(r"(?:\d{2,4}|[xy]{2,4}|\d{2}[xy]{2})[-/][\dxm?]{1,2}[-/][\dxd?]{1,2}|\d{4}/\d{2}-", re.I)
CLOCK = re.compile(
    r"(?P<h>\d{1,2})(?::|h(?=\d{2}))(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?(?:\s*(?P<ampm>[ap])\.?\s?m\.?(?![a-z]))?",
    re.I,
)
BARE_HOUR = re.compile(r"(?P<h>\d{1,2})\s*(?P<ampm>[ap])\.?\s?m\.?(?![a-z])", re.I)
MILITARY = re.compile(r"(?P<h>[01]\d|2[0-3])(?P<m>[0-5]\d)\s*(?=(?:UTC|GMT|Z|hrs?|hours)\b)", re.I)
OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})(?!\d)")
PLACEHOLDER_TIME = re.compile(r"(?:hh|\d{1,2}|[-?x]{2}):(?:mm|[-?x]{2})", re.I)
LEAD = re.compile(r"^[\s~≈*_`>\[(]*(?:(?:approx(?:imately)?\.?|about|around|circa|ca\.)\s+)?", re.I)


@dataclass(frozen=True)
class Moment:
    """What a text's start says about when: any of date, time and zone, how far it reached, and any issue."""

    date: date | None = None
    time: time | None = None
    zone: str | None = None
    end: int = 0  # where the moment ends in the text
    approximate: bool = False
    issue: str = ""  # why a date or time that is there could not be read
    repaired: str = ""  # a reading that needed the document's context ("20202" read as 2020)


def read_moment(text: str, *, years: tuple[int, ...] = ()) -> Moment:
    """The date, time and zone `text` starts with; years are the document's own (to read "20202" or "Nov 29")."""
    lead = LEAD.match(text)
    position = lead.end() if lead else 0
    approximate = "~" in text[:position] or "≈" in text[:position] or bool(re.search(r"[a-z]", text[:position], re.I))
    day, issue, repaired, position = _date_at(text, position, years)
    found_time, time_issue, position = _time_at(text, position)
    issue = issue or time_issue
    zone = None
    rest = text[position:]
    match = re.match(r"\s*[(\[]?\s*", rest)
    offset_at = position + (match.end() if match else 0)
    zone_match = ABBREVIATION.match(text, offset_at) or OFFSET.match(text, offset_at) or IANA.match(text, offset_at)
    if zone_match and (found_time is not None or day is not None):
        zone = _zone_of(zone_match)
        position = zone_match.end()
        closing = re.match(r"\s*[)\]]", text[position:])
        if closing:
            position += closing.end()
    trailing = re.match(r"\s*[~≈]", text[position:])
    if trailing:
        approximate, position = True, position + trailing.end()
    return Moment(day, found_time, zone, position, approximate, issue, repaired)


def _zone_of(match: re.Match[str]) -> str:
    if match.re is OFFSET:
        return f"{match.group(1)}{match.group(2)}:{match.group(3)}"
    if match.re is IANA:
        return match.group(1)
    name, sign, hours, minutes = match.groups()
    if sign and name in ("UTC", "GMT"):
        return f"{sign}{int(hours):02d}:{minutes or '00'}"
    return str(name)


def _date_at(text: str, position: int, years: tuple[int, ...]) -> tuple[date | None, str, str, int]:
    """(date, issue, repair, end) for a date at position."""
    for pattern in (ISO_DATE, NUMERIC_DATE, DAY_MONTH, MONTH_DAY):
        match = pattern.match(text, position)
        if match is None:
            continue
        fields = match.groupdict()
        if pattern is ISO_DATE:
            year_text, month, day = fields["year"], int(fields["m"]), int(fields["d"])
        elif pattern is NUMERIC_DATE:
            first, second, year_text = int(fields["a"]), int(fields["b"]), fields["year"]
            if len(year_text) == 2:
                year_text = f"20{year_text}"
            if first > 12 >= second:
                day, month = first, second
            elif second > 12 >= first:
                month, day = first, second
            elif first == second:
                day = month = first
            else:
                return None, f"{match.group(0)!r} could be read day first or month first", "", match.end()
        else:
            month, day = MONTHS[fields["month"].lower().rstrip(".")], int(fields["d"])
            year_text = fields.get("year") or ""
        year, repaired = _year(year_text, years, match.group(0))
        if year is None:
            why = repaired or f"{match.group(0)!r} has no year and the document states none"
            return None, why, "", match.end()
        try:
            return date(year, month, day), "", repaired if year_text != str(year) else "", match.end()
        except ValueError:
            return None, f"{match.group(0)!r} is not a date", "", match.end()
    placeholder = PLACEHOLDER_DATE.match(text, position)
    if placeholder:
        end = placeholder.end()
        tail = re.match(r"[\dxd?]*", text[end:], re.I)
        return None, f"the date {text[position:end].strip()!r} is incomplete", "", end + (tail.end() if tail else 0)
    return None, "", "", position


def _year(written: str, years: tuple[int, ...], shown: str) -> tuple[int | None, str]:
    """The year, with the note of a repair: a five-digit year is read as the document's year it holds."""
    if not written:
        distinct = sorted(set(years))
        return (distinct[0], "") if len(distinct) == 1 else (None, "")
    if len(written) == 4:
        return int(written), ""
    candidates = {int(written[:i] + written[i + 1 :]) for i in range(len(written))}
    matching = sorted(candidates & set(years))
    if len(matching) == 1:
        return matching[0], f"{shown!r} has a five-digit year; read as {matching[0]}, the document's year"
    return None, f"{shown!r} has a five-digit year that the document's dates do not settle"


def _time_at(text: str, position: int) -> tuple[time | None, str, int]:
    """(time, issue, end) for a time at position, after a separator such as a space, "T" or ", at"."""
    gap = re.match(r"(?:\s*(?:T|,|at|@|-(?!-)|\u2013)?\s*)", text[position:], re.I)
    start = position + (gap.end() if gap else 0)
    for pattern in (CLOCK, MILITARY, BARE_HOUR):
        match = pattern.match(text, start)
        if match is None:
            continue
        fields = match.groupdict()
        hour, minute = int(fields["h"]), int(fields.get("m") or 0)
        second = int(fields.get("s") or 0)
        ampm = (fields.get("ampm") or "").lower()
        if ampm:
            if not 1 <= hour <= 12:
                return None, f"{match.group(0)!r} is not a time", match.end()
            hour = hour % 12 + (12 if ampm == "p" else 0)
        if hour > 23 or minute > 59 or second > 59:
            return None, f"{match.group(0)!r} is not a time", match.end()
        end = match.end()
        after = text[end : end + 3]
        if re.match(r":[?x-]", after, re.I) or re.match(r"\s*[?]", after):
            return None, f"the time {text[start : end + 3].strip()!r} is incomplete", end + 3
        return time(hour, minute, second), "", end
    placeholder = PLACEHOLDER_TIME.match(text, start)
    if placeholder:
        return None, f"the time {placeholder.group(0)!r} was never filled in", placeholder.end()
    return None, "", position


def instant(day: date, clock: time, zone: object) -> datetime:
    """The aware datetime of a date and time read in a zone (a tzinfo)."""
    return datetime.combine(day, clock).replace(tzinfo=zone)  # type: ignore[arg-type]

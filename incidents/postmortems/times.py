"""Times inside a section's Markdown: kept as times, read by each reader in their own zone.

The pre-fill writes a time as an HTML <time> element, which Markdown allows as it is:

    <time datetime="2026-11-20T10:00:00Z">Fri 2026-11-20 10:00 UTC</time>

The datetime attribute is the time itself; the words inside are what a plain Markdown reader sees
(in what is stored, always UTC, with the date and the zone). Pages show those words in the reader's
zone. The editor shows each time as plain words in the reader's zone ("Fri 2026-11-20 05:00 EST"),
and a save from the editor turns words of that form, in the reader's zone or UTC, back into
elements: a time a person types so becomes a time for every reader too, and a section saved
unchanged stays as it was. The Markdown export writes each time as plain words in the zone it
states at its top.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from .. import timefmt

# Only the form the pre-fill writes (and the sanitizer keeps): one attribute, words without markup.
TIME_ELEMENT = re.compile(r'<time datetime="([0-9T:+\-.Z ]{10,40})">([^<]{0,80})</time>')
# A time the incident record wrote as UTC words ("Mitigated time set to 2026-11-20 10:45:00 UTC").
UTC_WORDS = re.compile(r"\b([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}(?::[0-9]{2})?) UTC\b")
# A time as the pages and the editor write it: "Fri 2026-11-20 05:00 EST".
WORDS = re.compile(
    r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}) "
    r"([A-Za-z]{2,6}|[+-][0-9]{2,4})(?![\w+-])"
)
_EITHER = re.compile(f"{TIME_ELEMENT.pattern}|{UTC_WORDS.pattern}")
# In sanitized HTML: a time element, or any other tag taken whole (its attribute values are always in
# double quotes, and may hold ">"), or UTC words in text. Taking tags whole keeps words inside an
# attribute ("title") from being read as a time and given markup there.
_IN_HTML = re.compile(f'{TIME_ELEMENT.pattern}|(<(?:[^>"]|"[^"]*")*>)|{UTC_WORDS.pattern}')
UNKNOWN = "not known yet"


def marked(value: datetime | None) -> str:
    """A time as the Markdown the pre-fill stores; "not known yet" when there is none."""
    if value is None:
        return UNKNOWN
    utc = value.astimezone(UTC)
    return f'<time datetime="{utc.isoformat().replace("+00:00", "Z")}">{timefmt.local(utc, "UTC")}</time>'


def _moment(text: str) -> datetime | None:
    """The time a datetime attribute names, when it is a whole, zoned time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _rewrite(text: str, zone: str) -> str:
    """The Markdown with each <time> element's words in the zone, the element kept."""

    def replace(match: re.Match[str]) -> str:
        moment = _moment(match.group(1))
        if moment is None:
            return match.group(0)
        return f'<time datetime="{match.group(1)}">{timefmt.local(moment, zone)}</time>'

    return TIME_ELEMENT.sub(replace, text)


def stored(text: str, words_in: str | None = None) -> str:
    """Markdown as it is stored: every <time> element's words in UTC; with words_in (the zone the editor
    showed), the editor's words for a time in that zone or UTC become elements again."""
    text = _rewrite(text, "UTC")
    if words_in is None:
        return text
    zones = list(dict.fromkeys((words_in, "UTC")))
    pieces = re.split(f"({TIME_ELEMENT.pattern})", text)
    # re.split keeps the element and its two groups; only the text between elements is read for words.
    out = []
    for index in range(0, len(pieces), 4):
        out.append(thawed(pieces[index], zones))
        if index + 1 < len(pieces):
            out.append(pieces[index + 1])
    return "".join(out)


def thawed(text: str, zones: list[str]) -> str:
    """The text with each time written as words ("Fri 2026-11-20 05:00 EST") in one of the zones made a
    time; words whose day or zone abbreviation do not fit the date in any of the zones stay words."""

    def time_of(match: re.Match[str]) -> str:
        day, date, clock, abbreviation = match.groups()
        for zone in zones:
            for fold in (0, 1):
                try:
                    value = datetime.fromisoformat(f"{date}T{clock}").replace(tzinfo=ZoneInfo(zone), fold=fold)
                except (ValueError, KeyError):
                    continue
                if value.strftime("%a") == day and value.strftime("%Z") == abbreviation:
                    return marked(value)
        return match.group(0)

    return WORDS.sub(time_of, text)


def for_editor(text: str, zone: str) -> str:
    """Markdown for the editor box: each time as plain words in the reader's zone."""
    return TIME_ELEMENT.sub(lambda m: _words(m, zone), text)


def _words(match: re.Match[str], zone: str) -> str:
    moment = _moment(match.group(1))
    return match.group(0) if moment is None else timefmt.local(moment, zone)


def plain(text: str, zone: str) -> str:
    """Markdown for export: each time as plain words in the zone."""
    return text_in_zone(text, zone)


def in_zone(html: Markup | str, zone: str) -> Markup:
    """Sanitized HTML with every time in the reader's zone: <time> elements, and UTC words made into them."""

    def replace(match: re.Match[str]) -> str:
        attribute, _words, tag, day, clock = match.groups()
        if tag:
            return tag
        moment = _moment(attribute) if attribute else _moment(f"{day}T{clock}+00:00")
        if moment is None:
            return match.group(0)
        machine = attribute or moment.isoformat().replace("+00:00", "Z")
        return f'<time datetime="{machine}">{escape(timefmt.local(moment, zone))}</time>'

    return Markup(_IN_HTML.sub(replace, str(html)))


def text_in_zone(text: str, zone: str) -> str:
    """A plain text (a timeline entry's) with its times in the zone: <time> elements and UTC words."""

    def replace(match: re.Match[str]) -> str:
        attribute, _words, day, clock = match.groups()
        moment = _moment(attribute) if attribute else _moment(f"{day}T{clock}+00:00")
        return match.group(0) if moment is None else timefmt.local(moment, zone)

    return _EITHER.sub(replace, text)


def comparable(text: str) -> str:
    """The text with each time reduced to the time itself, so the words it is shown in do not count."""
    return TIME_ELEMENT.sub(lambda m: f"<time {m.group(1)}>", text)

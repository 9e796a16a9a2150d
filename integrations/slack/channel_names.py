"""Pure: the name of the channel opened for an incident, from the pattern KINTSUGI_SLACK_CHANNEL_NAME sets.

Slack names a channel with at most 80 lowercase letters, digits, hyphens and underscores, unique
in the workspace; the pattern's {id} keeps each incident's name its own.
"""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import date

DEFAULT_PATTERN = "inc-{id}-{slug}"
PLACEHOLDERS = ("id", "slug", "date", "severity")
NAME_MAX = 80
# Room kept for a suffix (-2, -3 ...) when the name is taken by a channel that is not the incident's.
SUFFIX_ROOM = 3
LITERAL = re.compile(r"^[a-z0-9_-]*$")
NOT_NAME = re.compile(r"[^a-z0-9_]+")


def checked_pattern(value: object) -> str:
    """The pattern, or a ValueError saying what is wrong with it."""
    setting = "KINTSUGI_SLACK_CHANNEL_NAME"
    if value is None or value == "":
        return DEFAULT_PATTERN
    if not isinstance(value, str):
        raise ValueError(f"{setting} must be a pattern such as {DEFAULT_PATTERN}, not {value!r}")
    pattern = value.strip()
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"{setting} {pattern!r} is not a pattern: {exc}") from None
    fields = []
    for literal, name, spec, conversion in parts:
        if not LITERAL.match(literal):
            raise ValueError(
                f"{setting} {pattern!r}: Slack channel names hold only lowercase letters, digits, - and _; "
                f"placeholders are {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
            )
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            given = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(
                f"{setting} {pattern!r}: {{{given}}} is not a placeholder; use "
                f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
            )
        fields.append(name)
    if "id" not in fields:
        raise ValueError(f"{setting} {pattern!r} needs {{id}}, so that each incident's channel has a name of its own")
    longest = render(pattern, incident_id=10**10 - 1, title="", severity="sev10", declared_on=date(2026, 12, 31))
    if len(longest) > NAME_MAX - SUFFIX_ROOM:
        raise ValueError(f"{setting} {pattern!r} makes names longer than Slack's {NAME_MAX} characters")
    return pattern


def render(pattern: str, *, incident_id: int, title: str, severity: str, declared_on: date, suffix: int = 1) -> str:
    """The channel's name: the pattern filled in, the title's slug cut to fit 80 characters, and `-<suffix>`
    after it from the second name tried on."""
    ending = f"-{suffix}" if suffix > 1 else ""
    values = {"id": str(incident_id), "date": declared_on.isoformat(), "severity": slug(severity), "slug": ""}
    fixed = _tidy(pattern.format(**values))
    room = max(NAME_MAX - len(fixed) - len(ending), 0)
    whole = slug(title)
    # Cut between words when the title is longer than the room left.
    values["slug"] = (whole if len(whole) <= room else whole[: room + 1].rsplit("-", 1)[0][:room]).strip("-_")
    name = _tidy(pattern.format(**values))[: NAME_MAX - len(ending)].strip("-_")
    return name + ending


def slug(text: str) -> str:
    """Text as a channel name's part: ASCII letters and digits, lowercased, the rest folded into hyphens."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return NOT_NAME.sub("-", plain).strip("-_")


def _tidy(name: str) -> str:
    # An empty placeholder leaves "inc-5-": fold the doubled and trailing separators it leaves.
    return re.sub(r"([-_])[-_]+", r"\1", name).strip("-_")

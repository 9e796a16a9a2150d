"""Pure reading of what Slack sends: words, incident ids, severities, mentions and declarations typed after
/incident, and the values of clicks and forms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SEVERITY = re.compile(r"^(?:sev)?([1-9][0-9]?)$", re.IGNORECASE)
DEFAULT_SCALE = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")
SEVERITY_WORD = re.compile(r"^sev([1-9])$", re.IGNORECASE)
# Slack sends a mention as <@U123> or <@U123|name>; W… ids are Enterprise Grid members.
MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
INCIDENT = re.compile(r"^#?([1-9][0-9]{0,8})$")
SERVICES = re.compile(r"^services?:(.*)$", re.IGNORECASE)
# Links, mentions and channels as Slack encodes them in text: <target|label> or <target>.
ENCODED = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


class Unreadable(ValueError):
    """What was typed cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Declaration:
    """An incident to declare, as typed: its title, a severity if one was given, its services."""

    title: str
    severity: str | None
    services: tuple[str, ...]


def first_word(text: str) -> tuple[str, str]:
    """The first word of the text and the rest, exactly as typed (only the space between them dropped)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    rest = text.strip()[len(parts[0]) :].lstrip()
    return parts[0], rest


def subcommand_of(text: str) -> tuple[str, str]:
    """The subcommand's name (lower case) and what follows it; `sev2` reads as `sev 2`."""
    word, rest = first_word(text)
    glued = SEVERITY_WORD.match(word)
    if glued:
        return "sev", f"{glued.group(1)} {rest}".strip()
    return word.lower(), rest


def incident_number(word: str) -> int | None:
    """The incident id a word names (42 or #42), else None."""
    match = INCIDENT.match(word.strip())
    return int(match.group(1)) if match else None


def take_incident(rest: str, *, in_incident_channel: bool, arguments: int | None) -> tuple[int | None, str]:
    """The incident id put first in the arguments, if any, and the arguments after it.

    `#42` always names an incident. A bare number does so when more words are given than the
    subcommand takes (`sev 42 2`, `status 42`). `arguments` None means free text: there a bare
    number first is the incident outside an incident's channel, and part of the text inside one
    (`note 5 pods restarted`).
    """
    word, after = first_word(rest)
    number = incident_number(word)
    if number is None:
        return None, rest
    if word.startswith("#"):
        return number, after
    if arguments is None:
        return (None, rest) if in_incident_channel else (number, after)
    if len(rest.split()) > arguments:
        return number, after
    return None, rest


def read_severity(text: str, scale: Sequence[str] = DEFAULT_SCALE) -> str:
    """A severity of the configured scale: its name in any case (`P2`, `sev2`), or its number, 1 the most
    severe (`2` is SEV2 on Kintsugi's scale, and the second of any other)."""
    word = text.strip()
    for level in scale:
        if level.lower() == word.lower():
            return level
    match = SEVERITY.match(word)
    if match:
        number = int(match.group(1))
        if f"SEV{number}" in scale:
            return f"SEV{number}"
        if number <= len(scale):
            return scale[number - 1]
    raise Unreadable(f"give a severity of {', '.join(scale)}, or its number (1 the most severe)")


def read_mention(text: str) -> str:
    """The Slack user id of a mention such as <@U123|name>."""
    match = MENTION.match(text.strip())
    if not match:
        raise Unreadable("mention the person with @, such as @alex")
    return match.group(1)


def read_declaration(text: str, scale: Sequence[str] = DEFAULT_SCALE) -> Declaration:
    """A title, with an optional severity anywhere (`sevN`, or a level of the scale with a digit in
    its name such as `P2`: a level named by a plain word, "minor", would eat titles) and
    `service:NAME` words (comma lists too)."""
    title: list[str] = []
    severities: list[str] = []
    services: list[str] = []
    for word in text.split():
        services_given = SERVICES.match(word)
        # `service:` naming nothing is a word of the title.
        named = [name for name in services_given.group(1).split(",") if name] if services_given else []
        if SEVERITY_WORD.match(word) or any(word == level and re.search(r"[0-9]", level) for level in scale):
            severities.append(read_severity(word, scale))
        elif named:
            services.extend(named)
        else:
            title.append(word)
    if len(set(severities)) > 1:
        raise Unreadable(f"give one severity, not {' and '.join(dict.fromkeys(severities))}")
    if not title:
        raise Unreadable("give the incident a title: what is happening, as responders see it")
    return Declaration(
        title=readable(" ".join(title)),
        severity=severities[0] if severities else None,
        services=tuple(dict.fromkeys(readable(s) for s in services)),
    )


def readable(text: str) -> str:
    """Slack's encoded text as a person reads it: mentions as @name, links as label (url), &amp; as &."""

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return f"{target[0]}{label}" if label else target
        if target.startswith("!"):
            return f"@{label or target[1:]}"
        return f"{label} ({target})" if label and label != target else target

    return ENCODED.sub(plain, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escaped(text: str) -> str:
    """Text safe to show in a Slack message: its control characters &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def value_at(data: object, *path: str) -> object:
    """What a foreign JSON document holds at a path of keys, or None when any step is missing or no object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text_at(data: object, *path: str) -> str:
    """The text at a path of keys, or "" when there is none."""
    found = value_at(data, *path)
    return found if isinstance(found, str) else ""


def read_choice(value: str) -> tuple[int, str] | None:
    """The incident id and the choice of a button's or option's value ("42:resolved", "42:SEV2"), else None."""
    number, colon, choice = value.partition(":")
    incident_id = incident_number(number) if not number.startswith("#") else None
    if not colon or incident_id is None or not choice.strip():
        return None
    return incident_id, choice.strip()

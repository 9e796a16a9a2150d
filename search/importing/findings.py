"""What a review found and decided, as written: contributing factors, action items and stats."""

from __future__ import annotations

import re
from datetime import date

from .blocks import Item, flatten, items_and_rest, paragraphs, tables_and_rest
from .moments import read_moment
from .records import ImportedActionItem, Problem

LINK = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)|<(https?://[^>\s]+)>|(https?://[^\s)>\]]+)")
OWNER = re.compile(r"\b(?:owner|owners|assignee|assigned to|responsible|who|dri)\s*[:=-]\s*([^,;()|\]]+)", re.I)
HANDLE = re.compile(r"(?<![\w.])@([A-Za-z0-9][\w.-]{0,38})")
DUE = re.compile(r"\b(?:due(?: date| on| by)?|deadline|by|eta|target(?: date)?)\s*[:=-]?\s*", re.I)
DONE = re.compile(r"(✅|✔|\b(done|completed?|fixed|resolved|closed|shipped)\b)", re.I)
WONT = re.compile(r"\b(won'?t do|wontfix|won'?t fix|not doing|cancell?ed|dropped)\b", re.I)
PROGRESS = re.compile(r"\b(in progress|wip|ongoing|started)\b", re.I)
HEADERS = {
    "title": re.compile(r"\b(action|item|task|description|what|countermeasure|remediation|title|summary)\b", re.I),
    "owner": re.compile(r"\b(owner|assignee|who|responsible|team|dri)\b", re.I),
    "due": re.compile(r"\b(due|deadline|date|eta|target|when)\b", re.I),
    "status": re.compile(r"\b(status|state|done)\b", re.I),
    "ticket": re.compile(r"\b(ticket|issue|link|jira|tracking|pr|reference)\b", re.I),
}
DURATION_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
    "week": 604800,
}
STAT_FIELDS = (
    (re.compile(r"^(time to (detect|detection)|ttd|mttd)\b", re.I), "time_to_detect"),
    (
        re.compile(r"^(time to (recover|recovery|resolve|resolution|restore|mitigate|repair|fix)|ttr|mttr)\b", re.I),
        "time_to_recover",
    ),
    (re.compile(r"^(duration|downtime|outage duration|total downtime|impact duration|length)\b", re.I), "downtime"),
    (re.compile(r"^(severity|sev|priority|incident severity|impact level)\b", re.I), "severity"),
    (re.compile(r"^(categor(y|ies)|type|tags?|keywords?|labels?)\b", re.I), "category"),
    (re.compile(r"^(services?|products?|systems?|components?|affected services?)\b", re.I), "product"),
)


def plain(text: str) -> str:
    """Markdown inline marks dropped from a short text: links kept as their words, emphasis removed."""
    text = LINK.sub(lambda m: m.group(1) or m.group(3) or m.group(4) or "", text)
    text = re.sub(r"(\*\*|__|~~|`)", "", text)
    text = re.sub(r"(?<!\w)[*_](\S(?:.*?\S)?)[*_](?!\w)", r"\1", text)
    return " ".join(text.split())


def read_factors(lines: list[str]) -> list[str]:
    """Each list item (its nested items joined to it) or, without a list, each paragraph is one factor."""
    items, rest = items_and_rest(lines)
    found = [_with_children(item) for item in items if item.text.strip() or item.children]
    found += [p for p in paragraphs(rest) if p and not p.startswith(("|", "#"))] if not items else []
    return [text for text in (t.strip() for t in found) if text and not re.fullmatch(r"[-\u2013\u2014.?]*", text)]


def _with_children(item: Item) -> str:
    children = [f"  {'  ' * depth}- {child.text}" for depth, child in flatten(item.children)]
    return "\n".join([item.text, *children]) if children else item.text


def read_action_items(lines: list[str], *, years: tuple[int, ...]) -> tuple[list[ImportedActionItem], list[Problem]]:
    """The action items of a section: a table's rows, every list item (nested ones too), else each paragraph."""
    problems: list[Problem] = []
    tables, rest = tables_and_rest(lines)
    found: list[ImportedActionItem] = []
    for table in tables:
        found.extend(_from_table(table.header, table.rows, years, problems))
    items, rest = items_and_rest(rest)
    for _depth, item in flatten(items):
        parsed = _from_text(item.text, item.checked, years, problems, where=f"action item {len(found) + 1}")
        if parsed is not None:
            found.append(parsed)
    if not tables and not items:
        for paragraph in paragraphs(rest):
            parsed = _from_text(paragraph, None, years, problems, where=f"action item {len(found) + 1}")
            if parsed is not None:
                found.append(parsed)
    return found, problems


def _from_table(
    header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], years: tuple[int, ...], problems: list[Problem]
) -> list[ImportedActionItem]:
    columns: dict[str, int] = {}
    for name, pattern in HEADERS.items():
        for index, cell in enumerate(header):
            if index not in columns.values() and pattern.search(cell):
                columns[name] = index
                break
    columns.setdefault("title", next((i for i in range(len(header)) if i not in columns.values()), 0))
    found: list[ImportedActionItem] = []
    for row in rows:
        cells = list(row) + [""] * len(header)
        where = f"action item {len(found) + 1}"
        item = _from_text(cells[columns["title"]], None, years, problems, where=where)
        if item is None:
            continue
        owner = plain(cells[columns["owner"]]) if "owner" in columns else item.owner
        due = _date(cells[columns["due"]], years, problems, where) if "due" in columns else item.due_on
        status = _status(cells[columns["status"]], None) if "status" in columns else item.status
        ticket = _link(cells[columns["ticket"]]) if "ticket" in columns else None
        found.append(
            ImportedActionItem(
                title=item.title,
                owner=owner or None,
                due_on=due,
                status=status,
                ticket_url=ticket or item.ticket_url,
            )
        )
    return found


def _from_text(
    text: str, checked: bool | None, years: tuple[int, ...], problems: list[Problem], *, where: str
) -> ImportedActionItem | None:
    raw = text.strip()
    if not plain(raw).strip(" -\u2013\u2014.?") or re.fullmatch(r"(?i)n/?a|none|tbd|-+", plain(raw)):
        return None
    owner_match = OWNER.search(raw)
    owner = owner_match.group(1).strip() if owner_match else None
    handle = HANDLE.search(raw)
    if owner is None and handle is not None:
        owner = "@" + handle.group(1)
    due = None
    title = raw
    for match in DUE.finditer(raw):
        moment = read_moment(raw[match.end() :], years=years)
        if moment.date is not None:
            due = moment.date
            title = title.replace(raw[match.start() : match.end() + moment.end], "")
            break
    if owner_match:
        title = title.replace(owner_match.group(0), "")
    elif handle is not None:
        title = title.replace(handle.group(0), "")
    title = re.sub(r"\(\s*[,;]?\s*[,;]?\s*\)|\[\s*\]", "", plain(title)).strip(" ,;:-\u2013\u2014")
    return ImportedActionItem(
        title=title or plain(raw),
        owner=plain(owner) if owner else None,
        due_on=due,
        status=_status(raw, checked),
        ticket_url=_link(raw),
    )


def _status(text: str, checked: bool | None) -> str:
    if checked:
        return "done"
    if WONT.search(text):
        return "wont_do"
    if re.match(r"^\s*~~.*~~\s*$", text) or (checked is None and DONE.search(text) and len(text) < 40):
        return "done"
    if PROGRESS.search(text) and len(text) < 40:
        return "in_progress"
    return "open"


def _link(text: str) -> str | None:
    match = LINK.search(text)
    return (match.group(2) or match.group(3) or match.group(4)) if match else None


def _date(text: str, years: tuple[int, ...], problems: list[Problem], where: str) -> date | None:
    if not plain(text).strip(" -?"):
        return None
    moment = read_moment(plain(text), years=years)
    if moment.date is None:
        problems.append(Problem(where, f"due date {text!r} could not be read; left undated"))
    return moment.date


AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])")


def seconds_of(text: str) -> int | None:
    """A written duration in seconds ("54 hours 10 minutes", "1h30m", "90 min", "1:30", "~2 days"); None if unread."""
    text = (
        re.sub(r"\[\^[^\]]*\]", "", text)
        .strip()
        .lower()
        .lstrip("~≈ ")
        .removeprefix("about ")
        .removeprefix("approx. ")
        .strip()
    )
    clock = re.fullmatch(r"(\d{1,3}):(\d{2})(?::(\d{2}))?\s*(?:h|hours?)?", text)
    if clock:
        return int(clock.group(1)) * 3600 + int(clock.group(2)) * 60 + int(clock.group(3) or 0)
    parts = AMOUNT.findall(text)
    leftover = AMOUNT.sub("", text)
    if not parts or re.search(r"[<>]|less|more|under|over|\d", leftover):
        return None
    total = 0.0
    for number, unit in parts:
        key = unit.rstrip("s") if unit not in ("s", "ms") else unit
        total += float(number.replace(",", ".")) * DURATION_UNITS.get(key, DURATION_UNITS.get(key[:3], 60))
    return int(total)


def read_stats(lines: list[str]) -> dict[str, list[str]]:
    """The stats a section states, by field (time_to_detect, time_to_recover, downtime, severity, category,
    product): each "Name: value" line or item."""
    items, rest = items_and_rest(lines)
    texts = [item.text for _d, item in flatten(items)] + [line.strip() for line in rest if line.strip()]
    found: dict[str, list[str]] = {}
    for text in texts:
        name, _, value = plain(text).partition(":")
        for pattern, field_name in STAT_FIELDS:
            if value.strip() and pattern.match(name.strip()):
                found.setdefault(field_name, []).append(value.strip())
                break
    return found

"""A post-mortem's timeline, from its tables, lists and lines, each row placed at its instant in UTC.

A row is placed only when its date, its time and its zone are known: its own, its column's, the
timeline's or the document's. Anything less is reported and the row stays text in the timeline
section; no time is made up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .blocks import flatten, items_and_rest, tables_and_rest
from .moments import Moment, instant, read_moment
from .records import Problem, TimelineRow
from .timezones import zone_info, zone_named, zone_stated

TIME_HEADER = re.compile(r"\b(date|time|times|when|timestamp|hour|clock|day|utc|gmt)\b", re.I)
DATE_ONLY_HEADER = re.compile(r"^\W*(date|day)\W*$", re.I)
TIME_ONLY_HEADER = re.compile(r"^\W*(time|hour|clock)\b", re.I)
SEPARATOR = re.compile(r"^[\s:\u2013\u2014|*_-]+")
KEY_LABELS = (
    (re.compile(r"^\W*(detection|detected|discovery|discovered|alerted)\W*:", re.I), "detected_at"),
    (re.compile(r"^\W*(recovery|recovered|resolved|mitigated|mitigation|restored)\W*:", re.I), "mitigated_at"),
)
NIGHT, MORNING = 18, 6


@dataclass
class Reading:
    """What reading a timeline needs and keeps: the zones and dates in force, the years the document states."""

    zone: str | None
    default_zone: str
    years: tuple[int, ...]
    day: date | None  # the document's date, for rows with a time and no date
    rows: list[TimelineRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    zone_assumed: bool = False
    column_zone: str | None = None
    _last: datetime | None = None


def read_timeline(lines: list[str], reading: Reading) -> Reading:
    """The rows of a timeline section's lines, read into `reading`."""
    tables, rest = tables_and_rest(lines)
    stated = next((zone_stated(line) for line in rest if zone_stated(line)), None)
    if stated:
        reading.zone = stated
    for table in tables:
        _read_table(table.header, table.rows, reading)
    items, rest = items_and_rest(rest)
    for depth, item in flatten(items):
        if depth == 0:
            text = " ".join([item.text, *(f"— {child.text}" for _d, child in flatten(item.children))])
            _read_line(text, reading, listed=True)
    for line in rest:
        stripped = line.strip().lstrip("#").strip()
        if stripped and not zone_stated(stripped):
            _read_line(stripped, reading, listed=False)
    return reading


def _read_table(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], reading: Reading) -> None:
    timed = [i for i, cell in enumerate(header) if TIME_HEADER.search(cell)]
    if not timed:
        timed = [0]
    date_column = next((i for i in timed if DATE_ONLY_HEADER.match(header[i])), None)
    time_column = next((i for i in timed if TIME_ONLY_HEADER.match(header[i]) and i != date_column), None)
    columns = [date_column, time_column] if date_column is not None and time_column is not None else [timed[0]]
    column_zone = next((zone_named(header[i]) for i in columns if zone_named(header[i])), None)
    reading.column_zone = reading.column_zone or column_zone
    for number, row in enumerate(rows, start=1):
        cells = list(row) + [""] * (len(header) - len(row))
        written = " ".join(cells[i] for i in columns if i < len(cells)).strip()
        text = " — ".join(c for i, c in enumerate(cells) if i not in columns and c.strip())
        _place(written, text, reading, where=f"timeline row {len(reading.rows) + 1}", column_zone=column_zone)
        del number


def _read_line(line: str, reading: Reading, *, listed: bool) -> None:
    moment = read_moment(line, years=reading.years)
    if moment.date is None and moment.time is None and not moment.issue:
        if listed:
            reading.problems.append(
                Problem(f"timeline row {len(reading.rows) + 1}", f"no date or time in {line[:60]!r}; kept as text")
            )
        return
    rest = SEPARATOR.sub("", line[moment.end :]).strip()
    if moment.date is not None and moment.time is None and not rest:
        reading.day = moment.date  # a date on its own line dates the rows under it
        return
    _place(line[: moment.end].strip(), rest, reading, where=f"timeline row {len(reading.rows) + 1}", moment=moment)


def _place(
    written: str,
    text: str,
    reading: Reading,
    *,
    where: str,
    column_zone: str | None = None,
    moment: Moment | None = None,
) -> None:
    """Add a row, at its instant when one can be read; say why not otherwise."""
    text = text.strip()
    if not text and not written:
        return
    if not text:
        reading.problems.append(Problem(where, f"{written!r} has no event text; left out"))
        return
    moment = moment or read_moment(written, years=reading.years)
    key_time = next((name for pattern, name in KEY_LABELS if pattern.match(text)), None)
    occurred_at = None
    if moment.issue:
        reading.problems.append(Problem(where, f"{moment.issue}; kept as text, not placed"))
    elif moment.time is None:
        why = "only a date, no time" if moment.date else "no date or time"
        reading.problems.append(Problem(where, f"{written or text[:40]!r}: {why}; kept as text, not placed"))
        if moment.date:
            reading.day = moment.date
    else:
        occurred_at = _instant(moment, reading, where, column_zone)
    leftover = written[moment.end :].strip() if written else ""
    if occurred_at is not None and (moment.approximate or leftover or moment.repaired):
        text = f"{text} (time as written: {written})"
    if moment.repaired:
        reading.problems.append(Problem(where, moment.repaired))
    reading.rows.append(TimelineRow(text=text, written=written, occurred_at=occurred_at, key_time=key_time))


def _instant(moment: Moment, reading: Reading, where: str, column_zone: str | None) -> datetime | None:
    assert moment.time is not None
    day = moment.date or reading.day
    if day is None:
        reading.problems.append(Problem(where, "a time without a date, and the document states no date; not placed"))
        return None
    zone = moment.zone or column_zone or reading.zone
    if zone is None:
        zone, reading.zone_assumed = reading.default_zone, True
    at = instant(day, moment.time, zone_info(zone)).astimezone(UTC)
    if moment.date is None and reading._last is not None:
        last_local = reading._last.astimezone(zone_info(zone))
        if last_local.date() == day and last_local.hour >= NIGHT and moment.time.hour < MORNING:
            # 23:50 then 00:10 with no date between: the night went on into the next day.
            day += timedelta(days=1)
            at += timedelta(days=1)
            reading.problems.append(Problem(where, f"no date; {moment.time:%H:%M} read as the next day, {day}"))
    reading.day = day
    reading._last = at
    return at

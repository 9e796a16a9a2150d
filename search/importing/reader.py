"""One Markdown post-mortem read into an `ImportedPostmortem`: pure, no database, no app.

Every part of the document lands somewhere: a known heading in its section or records, an unknown
one under "Other notes" (and the report says so), text before any heading in the summary.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from .blocks import Section, sections_of
from .findings import plain, read_action_items, read_factors, read_stats, seconds_of
from .frontmatter import split_front_matter
from .headings import part_of
from .moments import read_moment
from .records import ImportedPostmortem, Problem
from .timeline import Reading, read_timeline
from .timezones import zone_info, zone_named, zone_stated

SOURCE_ID_MAX = 200
TITLE_MAX = 200
DERIVED_TITLE_MAX = 120
ITEM_TITLE_MAX = 200
SUMMARY_MAX = 2_000
FULL_DATE = re.compile(
    r"\b(\d{4}-\d{2}-\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4})\b",
    re.I,
)
OPAQUE = re.compile(r"[0-9a-f]{8}(-?[0-9a-f]{4}){3}-?[0-9a-f]{12}|[0-9a-f]{16,}|\d+", re.I)
START_FIELDS = ("start_time", "started_at", "start", "started", "incident_start", "start_date")
END_FIELDS = ("end_time", "ended_at", "end", "ended", "resolved_at", "resolved", "end_date", "incident_end")
DETECTED_FIELDS = ("detected_at", "detected", "detection_time", "detected_time")
DATE_FIELDS = ("date", "incident_date", "occurred", "occurred_at", "day")
PUBLISHED_FIELDS = ("source_published_at", "published_at", "published", "date_published")


def read_postmortem(file_name: str, text: str, *, default_zone: str = "UTC") -> ImportedPostmortem:
    """Read one document; what could not be read is in its `problems`, never raised."""
    fields, body, front_problem = split_front_matter(text)
    fields = fields or {}
    doc = ImportedPostmortem(source_id=_source_id(fields, file_name), file_name=file_name)
    if front_problem:
        doc.problem("front matter", front_problem)
    sections = sections_of(body)
    doc.title = _title(fields, sections, file_name, doc)
    parts, notes = _parts(sections, doc)
    doc.zone = doc.zone or _zone(fields, parts, body)
    years = _years(fields, file_name, doc.title, body)
    day = _day(fields, doc.title, doc.zone)
    reading = Reading(zone=doc.zone, default_zone=default_zone, years=years, day=day)
    read_timeline(parts.get("timeline", []), reading)
    doc.timeline, doc.problems = reading.rows, doc.problems + reading.problems
    if reading.zone_assumed:
        doc.problem("time zone", f"the document states none; its times were read as {default_zone}")
    doc.zone = reading.zone or reading.column_zone or doc.zone
    _metadata(fields, doc)
    _findings(parts, doc, years, notes)
    _times(fields, doc, reading, body)
    sections_text = {key: "\n".join(lines).strip() for key, lines in parts.items() if key not in RECORDS}
    summary_text = str(fields.get("summary") or fields.get("description") or "").strip()
    if summary_text and summary_text not in sections_text.get("summary", ""):
        sections_text["summary"] = f"{summary_text}\n\n{sections_text.get('summary', '')}".strip()
    if notes:
        sections_text["notes"] = "\n\n".join(notes).strip()
    doc.sections = {key: value for key, value in sections_text.items() if value}
    doc.summary = summary_text or _first_paragraphs(doc.sections.get("summary", ""))
    if doc.started_at is None and _looks_like_template(file_name, doc.title, body):
        doc.problems.append(
            Problem("file", "a blank template (placeholders, no date): not a post-mortem", refused=True)
        )
    return doc


def _looks_like_template(file_name: str, title: str, body: str) -> bool:
    placeholders = len(re.findall(r"\b(?:20xx|yyyy|HH:mm|XXX|YYY|ZZZ|MM-DD)\b", body, re.I))
    return placeholders >= 2 or ("template" in f"{file_name} {title}".lower() and placeholders >= 1)


RECORDS = ("factors", "actions", "stats")


def _source_id(fields: dict[str, Any], file_name: str) -> str:
    """The document's own id (front matter uuid or id), else its file name without the extension."""
    given = fields.get("uuid") or fields.get("id")
    name = Path(file_name).name
    stem, dot, suffix = name.rpartition(".")
    value = (
        str(given).strip() if given not in (None, "") else (stem if dot and re.fullmatch(r"\w{1,10}", suffix) else name)
    )
    value = value.strip() or name
    if len(value) > SOURCE_ID_MAX:
        digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
        value = f"{value[: SOURCE_ID_MAX - 17]}~{digest}"
    return value


def _title(fields: dict[str, Any], sections: list[Section], file_name: str, doc: ImportedPostmortem) -> str:
    title = plain(str(fields.get("title") or "")).strip()
    first = next((s for s in sections if s.level), None)
    if not title and first is not None and part_of(first.heading) is None and first.heading:
        title = first.heading
        first.level = -1  # the title's heading; the text under it is the start of the document
    name = Path(file_name).name.rsplit(".", 1)[0] if "." in Path(file_name).name else Path(file_name).name
    opening = next((p for p in re.split(r"\n\s*\n", sections[0].text) if p.strip()), "") if sections else ""
    summary = plain(str(fields.get("summary") or opening))
    if not title and OPAQUE.fullmatch(name) and summary:
        # A file named by an id ("0b69e012-...") says nothing: the summary's first sentence does.
        title = re.split(r"(?<=[.!?])\s", summary, maxsplit=1)[0].rstrip(".")
        if len(title) > DERIVED_TITLE_MAX:
            title = title[:DERIVED_TITLE_MAX].rsplit(" ", 1)[0] + "…"
        doc.problem("title", "no title and no heading, and the file name is an id: the first sentence is the title")
    if not title:
        title = name
        doc.problem("title", "no title in the front matter and no heading; the file name is the title")
    if len(title) > TITLE_MAX:
        doc.problem("title", f"{len(title)} characters; cut to {TITLE_MAX}")
        title = title[: TITLE_MAX - 1] + "…"
    return title


def _parts(sections: list[Section], doc: ImportedPostmortem) -> tuple[dict[str, list[str]], list[str]]:
    """Lines by part; the text of unknown headings as notes (each under its heading)."""
    parts: dict[str, list[str]] = {}
    notes: list[str] = []
    current: tuple[str | None, int] = ("summary", 0)
    for section in sections:
        part = part_of(section.heading) if section.level > 0 else None
        if section.level <= 0:
            target, level = "summary", 0
        elif part is not None:
            target, level = part, section.level
        elif current[0] is not None and section.level > current[1] > 0:
            target, level = current[0], current[1]  # a sub-heading of a known part stays in it
        else:
            target, level = None, section.level
        if target is None:
            if section.text or section.heading:
                notes.append(f"### {section.heading}\n\n{section.text}".strip())
                doc.problem(
                    f"heading {section.heading!r}", "not a part of a post-mortem Kintsugi knows; kept under Other notes"
                )
            current = (None, section.level)
            continue
        if part == "timeline" and "(" in section.heading and zone_named(section.heading):
            doc.zone = zone_named(section.heading)  # "Timeline (PST)"
        lines = parts.setdefault(target, [])
        if section.level > 0 and (target != part or any(line.strip() for line in lines)):
            lines.append(f"{'#' * max(3, min(section.level + 1, 6))} {section.heading}")
        lines.extend(section.lines)
        lines.append("")
        if part is not None or section.level <= 0:
            current = (target, level)
    return parts, notes


def _zone(fields: dict[str, Any], parts: dict[str, list[str]], body: str) -> str | None:
    for key in ("timezone", "time_zone", "tz", "zone"):
        if fields.get(key) and zone_named(str(fields[key])):
            return zone_named(str(fields[key]))
    for line in [*parts.get("timeline", []), *body.split("\n")]:
        stated = zone_stated(line) if len(line) < 300 and "|" not in line else None
        if stated:
            return stated
    return None


def _years(fields: dict[str, Any], file_name: str, title: str, body: str) -> tuple[int, ...]:
    """The years the document states: in its dates, file name and title (to read "20202" and "Nov 29")."""
    found = {v.year for v in fields.values() if isinstance(v, date)}
    for text in (file_name, title):
        found.update(int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text))
    found.update(int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})-\d{1,2}-\d{1,2}(?!\d)", body))
    this_year = datetime.now(UTC).year
    return tuple(sorted(y for y in found if 1970 <= y <= this_year))


def _day(fields: dict[str, Any], title: str, zone: str | None) -> date | None:
    for key in (*START_FIELDS, *DATE_FIELDS):
        value = fields.get(key)
        if isinstance(value, datetime):
            return value.astimezone(zone_info(zone)).date() if value.tzinfo and zone else value.date()
        if isinstance(value, date):
            return value
    match = FULL_DATE.search(title)
    return read_moment(match.group(0)).date if match else None


def _findings(parts: dict[str, list[str]], doc: ImportedPostmortem, years: tuple[int, ...], notes: list[str]) -> None:
    doc.factors = read_factors(parts.get("factors", []))
    items, problems = read_action_items(parts.get("actions", []), years=years)
    doc.problems.extend(problems)
    cut = False
    for number, item in enumerate(items, start=1):
        if len(item.title) > ITEM_TITLE_MAX:
            cut = True
            doc.problem(
                f"action item {number}", f"{len(item.title)} characters; its title keeps the first {ITEM_TITLE_MAX}"
            )
            item = type(item)(**{**item.__dict__, "title": item.title[: ITEM_TITLE_MAX - 1] + "…"})
        doc.action_items.append(item)
    if cut or (parts.get("actions") and not items and "".join(parts["actions"]).strip()):
        notes.append("### Action items as written\n\n" + "\n".join(parts["actions"]).strip())
    if parts.get("factors") and not doc.factors and "".join(parts["factors"]).strip():
        notes.append("### Contributing factors as written\n\n" + "\n".join(parts["factors"]).strip())
    stats = read_stats(parts.get("stats", []))
    if "".join(parts.get("stats", [])).strip():
        notes.append("### Stats\n\n" + "\n".join(parts["stats"]).strip())
    for name in ("time_to_detect", "time_to_recover", "downtime"):
        for value in stats.get(name, []):
            seconds = seconds_of(value)
            if seconds is None:
                doc.problem(f"stats: {name.replace('_', ' ')}", f"{value!r} is not a duration Kintsugi can read")
            else:
                setattr(doc, name, seconds)
    doc.severity = doc.severity or next(iter(stats.get("severity", [])), None)
    for value in stats.get("category", []):
        doc.tags.extend(t.strip() for t in re.split(r"[,;/]| and ", value) if t.strip() and plain(t).strip(" ?-"))
    for value in stats.get("product", []):
        doc.products.extend(p.strip() for p in re.split(r"[,;]", value) if p.strip())


def _metadata(fields: dict[str, Any], doc: ImportedPostmortem) -> None:
    doc.company = str(fields.get("company") or fields.get("organization") or fields.get("team") or "").strip() or None
    for key in ("product", "products", "service", "services"):
        doc.products.extend(_listed(fields.get(key)))
    for key in ("categories", "category", "keywords", "tags", "labels"):
        doc.tags.extend(_listed(fields.get(key)))
    if fields.get("severity") or fields.get("sev"):
        doc.severity = str(fields.get("severity") or fields.get("sev"))
    for key in ("url", "link", "source", "source_url", "archive_url"):
        value = str(fields.get(key) or "").strip()
        if value.startswith(("http://", "https://")):
            doc.links.append(value)
        elif value:
            doc.problem(f"front matter {key}", f"{value[:80]!r} is not an http(s) link; not kept as one")


def _listed(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    values = value if isinstance(value, list) else re.split(r"[,;]", str(value))
    return [str(v).strip() for v in values if str(v).strip()]


def _when(value: Any, zone: str | None, doc: ImportedPostmortem, where: str) -> tuple[datetime | None, bool]:
    """A front matter time as an aware UTC datetime, and whether it was only a date."""
    if isinstance(value, str):
        moment = read_moment(value)
        if moment.date is None:
            doc.problem(where, f"{value!r} is not a date or time Kintsugi can read")
            return None, False
        value = datetime.combine(moment.date, moment.time) if moment.time else moment.date
        zone = moment.zone or zone
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone_info(zone or "UTC"))
        return value.astimezone(UTC), False
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=zone_info(zone or "UTC")).astimezone(UTC), True
    if value is not None:
        doc.problem(where, f"{value!r} is not a date or time Kintsugi can read")
    return None, False


def _times(fields: dict[str, Any], doc: ImportedPostmortem, reading: Reading, body: str) -> None:
    """Key times from the front matter and the timeline; a start from the best evidence the document gives."""
    placed = sorted(row.occurred_at for row in doc.timeline if row.occurred_at is not None)
    start_key = next((k for k in START_FIELDS if fields.get(k) not in (None, "")), None)
    if start_key:
        doc.started_at, only_date = _when(fields[start_key], doc.zone, doc, f"front matter {start_key}")
        doc.start_basis = f"front matter {start_key}" + (" (a date without a time: 00:00)" if only_date else "")
    if doc.started_at is None and placed:
        doc.started_at, doc.start_basis = placed[0], "the earliest time on its timeline"
    date_key = next((k for k in DATE_FIELDS if fields.get(k) not in (None, "")), None)
    if doc.started_at is None and date_key:
        doc.started_at, _only = _when(fields[date_key], doc.zone, doc, f"front matter {date_key}")
        doc.start_basis = f"front matter {date_key}"
    if doc.started_at is None:
        day = reading.day or _first_date(doc.title, doc.summary, body)
        if day is not None:
            doc.started_at = datetime.combine(day, time(0), tzinfo=UTC)
            doc.start_basis = f"no start time stated: the first date the document gives, {day}, at 00:00 UTC"
    published_key = next((k for k in PUBLISHED_FIELDS if fields.get(k) not in (None, "")), None)
    if doc.started_at is None and published_key:
        doc.started_at, _only = _when(fields[published_key], doc.zone, doc, f"front matter {published_key}")
        doc.start_basis = f"no start time stated: the date the report was published ({published_key}), which is later"
    if doc.start_basis.startswith("no start") or "a date without" in doc.start_basis:
        doc.problem("start time", doc.start_basis)
    end_key = next((k for k in END_FIELDS if fields.get(k) not in (None, "")), None)
    if end_key:
        end, _only = _when(fields[end_key], doc.zone, doc, f"front matter {end_key}")
        if end is not None and doc.started_at is not None and end < doc.started_at:
            doc.problem(f"front matter {end_key}", "before the start; not kept")
        else:
            doc.mitigated_at = doc.resolved_at = end
    detected_key = next((k for k in DETECTED_FIELDS if fields.get(k) not in (None, "")), None)
    if detected_key:
        doc.detected_at, _only = _when(fields[detected_key], doc.zone, doc, f"front matter {detected_key}")
    for row in doc.timeline:
        if row.occurred_at is None or row.key_time is None:
            continue
        if row.key_time == "detected_at" and doc.detected_at is None:
            doc.detected_at = row.occurred_at
        elif row.key_time == "mitigated_at" and doc.mitigated_at is None:
            doc.mitigated_at = row.occurred_at
    _keep_in_order(doc)


def _keep_in_order(doc: ImportedPostmortem) -> None:
    start = doc.started_at
    for name in ("detected_at", "mitigated_at", "resolved_at"):
        value = getattr(doc, name)
        if value is not None and start is not None and value < start:
            doc.problem(name.replace("_at", " time"), f"{value:%Y-%m-%d %H:%M} UTC is before the start; not kept")
            setattr(doc, name, None)
    if doc.mitigated_at and doc.resolved_at and doc.resolved_at < doc.mitigated_at:
        doc.resolved_at = doc.mitigated_at
    if doc.detected_at and doc.mitigated_at and doc.mitigated_at < doc.detected_at:
        doc.problem("detected time", "after the recovery; not kept")
        doc.detected_at = None
    if doc.detected_at and doc.resolved_at and doc.resolved_at < doc.detected_at:
        doc.detected_at = None


def _first_date(*texts: str) -> date | None:
    for text in texts:
        match = FULL_DATE.search(text[:4000])
        if match:
            found = read_moment(match.group(0)).date
            if found is not None:
                return found
    return None


def _first_paragraphs(text: str) -> str:
    kept: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        if paragraph.lstrip().startswith(("#", "|")) or sum(len(p) for p in kept) + len(paragraph) > SUMMARY_MAX:
            break
        kept.append(paragraph.strip())
    return "\n\n".join(kept) or text[: SUMMARY_MAX - 1].strip()


__all__ = ["Problem", "read_postmortem"]

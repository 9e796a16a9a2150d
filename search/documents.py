"""What the index holds for an incident: one document, built from its record by pure functions.

An incident with a published post-mortem is found as that post-mortem (type "postmortem", its
document page), with everything the review wrote; any other incident is found as itself (type
"incident"). One document per incident, so the two never compete in a list of results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from incidents.library import IncidentRecord

# Sections whose text says what the impact was (searched with the summary, above the body).
IMPACT_SECTIONS = ("impact", "exposure")
LESSON_SECTIONS = ("went_well", "went_wrong", "lucky", "surprises", "lessons")


@dataclass(frozen=True)
class SearchDocument:
    """One incident in the index; `key` is "incident:<id>" whatever its type."""

    key: str
    type: str
    incident_id: int
    postmortem_id: int | None
    title: str
    summary: str
    impact: str
    factors: str
    lessons: str
    countermeasures: str
    body: str
    alerts: str
    services: tuple[str, ...]
    teams: tuple[str, ...]
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    severity: str
    year: int
    # When the incident began: what "sort by date" sorts by (an imported report is published the day it
    # is imported, years after it happened).
    date: datetime
    published_at: datetime | None
    restricted: bool
    reader_ids: tuple[int, ...]
    source_id: str | None
    # A digest of everything above, to tell a stale document from a fresh one without reading it.
    digest: str


def key_of(incident_id: int) -> str:
    """The index key of an incident's document."""
    return f"incident:{incident_id}"


def document_of(record: IncidentRecord) -> SearchDocument:
    """The document an incident record becomes."""
    pm = record.postmortem
    sections = {s.key: s for s in pm.sections} if pm else {}
    impact = "\n\n".join(sections[k].body for k in IMPACT_SECTIONS if k in sections)
    lessons = "\n\n".join(sections[k].body for k in LESSON_SECTIONS if k in sections)
    summary_section = sections["summary"].body if "summary" in sections else ""
    rest = [s.body for k, s in sections.items() if k not in (*IMPACT_SECTIONS, *LESSON_SECTIONS, "summary")]
    document = SearchDocument(
        key=key_of(record.incident_id),
        type="postmortem" if pm else "incident",
        incident_id=record.incident_id,
        postmortem_id=pm.postmortem_id if pm else None,
        title=pm.title if pm and pm.title.strip() else record.title,
        # An imported report's summary section often repeats the incident's summary: count it once.
        summary=summary_section
        if record.summary.strip() in summary_section
        else f"{record.summary}\n\n{summary_section}",
        impact=impact,
        factors="\n".join(f.text for f in pm.factors) if pm else "",
        lessons=lessons,
        countermeasures="\n".join(c.title for c in pm.countermeasures) if pm else "",
        body="\n\n".join([*rest, *record.key_moments]),
        alerts="\n".join(record.alert_names),
        services=record.services,
        teams=record.teams,
        tags=record.tags,
        categories=tuple(sorted({f.category for f in pm.factors})) if pm else (),
        severity=record.severity,
        year=record.started_at.year,
        date=record.started_at,
        published_at=pm.published_at if pm else None,
        restricted=record.restricted,
        reader_ids=record.reader_ids,
        source_id=record.source_id,
        digest="",
    )
    content = json.dumps(asdict(document), default=str, sort_keys=True).encode("utf-8")
    return replace(document, digest=hashlib.sha256(content).hexdigest())

"""An `ImportedPostmortem` as the domain's `PastIncident`: pure, given the app's scales and categories."""

from __future__ import annotations

import re
from dataclasses import dataclass

from incidents.models import EntryKind, Visibility
from incidents.past_incidents import PastActionItem, PastEntry, PastIncident
from incidents.postmortems.models import ActionStatus, ActionType

from .records import ImportedPostmortem
from .timezones import iana_name

TEMPLATE = "written-report"
DATE_UNKNOWN = "date-unknown"
SEVERITY_WORDS = {"critical": 0, "blocker": 0, "high": 1, "major": 1, "medium": 2, "moderate": 2, "low": 3, "minor": 3}
CATEGORY_HINTS = (
    ("detection", r"\b(alert|alerting|monitor|monitoring|detect|observab|dashboard|paged?|noise)"),
    ("dependency", r"\b(third[- ]party|vendor|upstream|provider|aws|gcp|azure|dependenc|library|supplier)"),
    ("communication", r"\b(communicat|inform|notif|escalat|hand-?over|message|channel)"),
    ("tooling", r"\b(tool|script|pipeline|terraform|ci/cd|automation|cli|playbook|runbook)"),
    ("process", r"\b(process|review|procedure|maintenance window|checklist|training|prioriti)"),
    ("remediation", r"\b(rollback|roll back|recover|restore|mitigat|fix)"),
)
TYPE_HINTS = (
    (ActionType.DETECT, r"\b(alert|monitor|dashboard|detect|observab|metric|log)"),
    (ActionType.PROCESS, r"\b(process|document|wiki|runbook|playbook|train|teach|learn|discuss|communicat|review)"),
    (ActionType.MITIGATE, r"\b(rollback|roll back|failover|recover|restore|mitigat|resilien)"),
)


@dataclass(frozen=True)
class Settings:
    """What translating needs from the app: its severity scale, factor categories and choices of the command."""

    severities: tuple[str, ...]
    categories: tuple[str, ...]
    default_severity: str
    restricted: bool = False


def past_incident(doc: ImportedPostmortem, settings: Settings) -> PastIncident:
    """The domain's record of the document. One without a date starts when first imported, tagged date-unknown."""
    tags = list(doc.tags)
    if doc.started_at is None:
        tags.append(DATE_UNKNOWN)
        doc.problem("start time", f"the document states no date: recorded as the time of import, tagged {DATE_UNKNOWN}")
    severity = _severity(doc, settings)
    entries = [
        PastEntry(
            text=row.text,
            occurred_at=row.occurred_at,
            kind=EntryKind.DETECTION if row.key_time == "detected_at" else EntryKind.NOTE,
            is_key_moment=row.key_time is not None,
        )
        for row in doc.timeline
        if row.occurred_at is not None
    ]
    entries += [
        PastEntry(text=f"The original report: {link}", occurred_at=None, kind=EntryKind.EVIDENCE, evidence_url=link)
        for link in dict.fromkeys(doc.links)
    ]
    factors = tuple((_category(text, settings.categories), text) for text in doc.factors)
    items = tuple(
        PastActionItem(
            title=item.title,
            owner=item.owner,
            due_on=item.due_on,
            type=_type(item.title),
            status=ActionStatus(item.status),
            ticket_url=item.ticket_url,
        )
        for item in doc.action_items
    )
    metrics = {
        "agreed_time_to_detect_seconds": doc.time_to_detect,
        "agreed_time_to_resolve_seconds": doc.time_to_recover,
        "agreed_downtime_seconds": doc.downtime,
    }
    because = f"from the imported report “{doc.file_name}”"
    if doc.start_basis:
        because += f" (its start: {doc.start_basis})"
    return PastIncident(
        key=doc.source_id,
        title=doc.title,
        severity=severity,
        started_at=doc.started_at,
        detected_at=doc.detected_at,
        mitigated_at=doc.mitigated_at,
        resolved_at=doc.resolved_at,
        summary=doc.summary,
        services=tuple(dict.fromkeys(doc.products)),
        teams=(doc.company,) if doc.company else (),
        tags=tuple(dict.fromkeys(tags)),
        visibility=Visibility.RESTRICTED if settings.restricted else Visibility.OPEN,
        reference_timezone=iana_name(doc.zone),
        entries=tuple(entries),
        template=TEMPLATE,
        sections=dict(doc.sections),
        factors=factors,
        action_items=items,
        metrics={name: value for name, value in metrics.items() if value is not None},
        because=because,
    )


def _severity(doc: ImportedPostmortem, settings: Settings) -> str:
    """The stated severity on the app's scale: "SEV2", "Sev 2", "P2", "2" and words like "major"."""
    written = (doc.severity or "").strip()
    if not written:
        doc.problem("severity", f"not stated; recorded as {settings.default_severity}")
        return settings.default_severity
    scale = settings.severities
    exact = {s.lower(): s for s in scale}.get(written.lower())
    if exact:
        return exact
    number = re.search(r"(\d+)", written)
    if number:
        # Scales that count from 0 (P0, SEV0) name the worst one 0.
        index = int(number.group(1)) - (0 if re.search(r"\b(p|sev|s)\s*-?0\b", written, re.I) else 1)
        zero_based = any(re.search(r"0\b", s) for s in scale)
        index = int(number.group(1)) if zero_based else index
        if 0 <= index < len(scale):
            return scale[index]
    word = next((index for name, index in SEVERITY_WORDS.items() if name in written.lower()), None)
    if word is not None and word < len(scale):
        return scale[word]
    doc.problem(
        "severity", f"{written!r} is not on the scale ({', '.join(scale)}); recorded as {settings.default_severity}"
    )
    return settings.default_severity


def _category(text: str, categories: tuple[str, ...]) -> str:
    """The factor's category by the words it uses, among the configured ones; else the first configured."""
    for category, pattern in CATEGORY_HINTS:
        if category in categories and re.search(pattern, text, re.I):
            return category
    return "design decision" if "design decision" in categories else categories[0]


def _type(title: str) -> ActionType:
    for kind, pattern in TYPE_HINTS:
        if re.search(pattern, title, re.I):
            return kind
    return ActionType.PREVENT

"""What a new post-mortem's sections start with: what the incident record already tells.

Times are written in the incident's reference zone (UTC when it has none), always with the date
and the zone, since a document outlives the page that showed it in the reader's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from .. import timefmt
from ..models import EntryKind, Incident, IncidentRole, LabelKind, Source, TimelineEntry

# Worded so that the blameless check finds nothing in it: it names the practice, not the phrases.
GROUND_RULES = (
    "We are here to learn how our systems and our organisation really work, not to find fault with people. "
    "Everyone acted on what they knew at the time, and their actions made sense to them then. "
    "We describe what happened and why it made sense, without imagining a different past. "
    "We look for several contributing factors, human and technical, not one root cause."
)
PAGER_SOURCES = (Source.PAGERDUTY, Source.OPSGENIE, Source.ALERTMANAGER, Source.GRAFANA)


def prefill(kind: str, incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    """The starting Markdown for a section that asks to be pre-filled with `kind`."""
    makers: dict[str, Callable[[Incident, Sequence[TimelineEntry]], str]] = {
        "summary": lambda i, _e: i.summary,
        "ground_rules": lambda _i, _e: GROUND_RULES,
        "impact": _impact,
        "stakeholders": _stakeholders,
        "alerts": _alerts,
        "key_moments": _key_moments,
    }
    return makers[kind](incident, entries)


def _when(incident: Incident, value: datetime | None) -> str:
    return timefmt.local(value, incident.reference_timezone or "UTC")


def _impact(incident: Incident, _entries: Sequence[TimelineEntry]) -> str:
    durations = incident.durations()
    services = ", ".join(incident.label_values(LabelKind.SERVICE)) or "not recorded"
    lines = [
        f"- Severity: {incident.severity}",
        f"- Services: {services}",
        f"- Impact began: {_when(incident, incident.started_at)}",
        f"- Impact ended (mitigated): {_when(incident, incident.mitigated_at)}",
        f"- Impact lasted: {timefmt.duration(durations['impact_duration'])}",
        f"- Time to detect: {timefmt.duration(durations['time_to_detect'])}",
        f"- Time to resolve: {timefmt.duration(durations['time_to_resolve'])}",
        "",
        "Who was affected, and how?",
    ]
    return "\n".join(lines)


def _stakeholders(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    def names(role: IncidentRole) -> str:
        return ", ".join(u.name for u in incident.holders(role)) or "—"

    detectors = sorted(
        {e.actor_name for e in entries if e.kind in (EntryKind.ALERT, EntryKind.DETECTION) and e.actor_name}
    )
    responders = sorted({e.actor_name for e in entries if e.kind is EntryKind.ACTION and e.actor_name})
    lines = [
        f"- Decided (incident commander): {names(IncidentRole.COMMANDER)}",
        f"- Detected: {', '.join(detectors) or '—'}",
        f"- Responded: {', '.join(responders) or names(IncidentRole.PARTICIPANT)}",
        f"- Scribe: {names(IncidentRole.SCRIBE)}; communications: {names(IncidentRole.COMMUNICATIONS_LEAD)}",
        f"- Participants: {names(IncidentRole.PARTICIPANT)}",
        "- Diagnosed: ",
        f"- Affected: users of {', '.join(incident.label_values(LabelKind.SERVICE)) or 'the affected services'}",
    ]
    return "\n".join(lines)


def _alerts(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    alerts = [e for e in entries if e.kind is EntryKind.ALERT or e.source in PAGER_SOURCES]
    detection = incident.detected_at
    lines = [
        f"Detected {_when(incident, detection)}, "
        f"{timefmt.duration(incident.durations()['time_to_detect'])} after impact began."
    ]
    if alerts:
        lines += ["", "Alerts and pages:", ""]
        lines += [f"- {_when(incident, e.occurred_at)} ({e.source.value}): {_first_line(e.text)}" for e in alerts]
    lines += ["", "How was the problem discovered: monitoring, a person, a customer?"]
    return "\n".join(lines)


def _key_moments(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    moments = [e for e in entries if e.is_key_moment]
    if not moments:
        return ""
    return "\n".join(f"- {_when(incident, e.occurred_at)}: {_first_line(e.text)}" for e in moments)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]

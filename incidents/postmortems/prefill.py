"""What a new post-mortem's sections start with: what the incident record already tells.

Times are written as times (see times.py), so every reader sees them in their own zone. What the
record does not know is said so ("not known yet") rather than left as an empty line to publish.
Only people are named as people: a pager or alerting tool is how someone was paged, never who
detected or responded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from .. import timefmt
from ..models import EntryKind, Incident, IncidentRole, LabelKind, Source, TimelineEntry
from .times import UNKNOWN, marked

# Worded so that the blameless check finds nothing in it: it names the practice, not the phrases.
GROUND_RULES = (
    "We are here to learn how our systems and our organisation really work, not to find fault with people. "
    "Everyone acted on what they knew at the time, and their actions made sense to them then. "
    "We describe what happened and why it made sense, without imagining a different past. "
    "We look for several contributing factors, human and technical, not one root cause."
)
PAGER_SOURCES = (Source.PAGERDUTY, Source.OPSGENIE, Source.ALERTMANAGER, Source.GRAFANA)
TOOL_NAMES = {
    Source.PAGERDUTY: "PagerDuty",
    Source.OPSGENIE: "Opsgenie",
    Source.ALERTMANAGER: "Alertmanager",
    Source.GRAFANA: "Grafana",
}


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


def _when(value: datetime | None) -> str:
    return marked(value)


def _lasted(value: timedelta | None) -> str:
    return timefmt.duration(value) if value is not None else UNKNOWN


def _impact(incident: Incident, _entries: Sequence[TimelineEntry]) -> str:
    durations = incident.durations()
    services = ", ".join(incident.label_values(LabelKind.SERVICE)) or UNKNOWN
    lines = [
        f"- Severity: {incident.severity}",
        f"- Services: {services}",
        f"- Impact began: {_when(incident.started_at)}",
        f"- Impact ended (mitigated): {_when(incident.mitigated_at)}",
        f"- Impact lasted: {_lasted(durations['impact_duration'])}",
        f"- Time to detect: {_lasted(durations['time_to_detect'])}",
        f"- Time to resolve: {_lasted(durations['time_to_resolve'])}",
        "",
        "Who was affected, and how?",
    ]
    return "\n".join(lines)


def _stakeholders(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    def names(role: IncidentRole) -> str:
        return ", ".join(u.name for u in incident.holders(role)) or UNKNOWN

    detectors = _people(e for e in entries if e.kind in (EntryKind.ALERT, EntryKind.DETECTION))
    responders = _people(e for e in entries if e.kind is EntryKind.ACTION)
    tools = _tools(entries)
    lines = [
        f"- Decided (incident commander): {names(IncidentRole.COMMANDER)}",
        f"- Detected: {', '.join(detectors) or UNKNOWN}",
        f"- Responded: {', '.join(responders) or names(IncidentRole.PARTICIPANT)}",
        f"- Scribe: {names(IncidentRole.SCRIBE)}; communications: {names(IncidentRole.COMMUNICATIONS_LEAD)}",
        f"- Participants: {names(IncidentRole.PARTICIPANT)}",
        f"- Diagnosed: {UNKNOWN}",
        f"- Affected: users of {', '.join(incident.label_values(LabelKind.SERVICE)) or 'the affected services'}",
    ]
    if tools:
        lines.append(f"- Paged through: {', '.join(tools)}")
    return "\n".join(lines)


def _people(entries: Iterable[TimelineEntry]) -> list[str]:
    """The people (accounts) who wrote these entries; a tool's entry has no account and names no one."""
    return sorted({e.actor_name for e in entries if e.actor_id is not None and e.actor_name})


def _tools(entries: Sequence[TimelineEntry]) -> list[str]:
    """The pager and alerting tools that sent entries, as people know them."""
    return [TOOL_NAMES[s] for s in PAGER_SOURCES if any(e.source is s for e in entries)]


def _alerts(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    alerts = [e for e in entries if e.kind is EntryKind.ALERT or e.source in PAGER_SOURCES]
    detection = incident.detected_at
    to_detect = incident.durations()["time_to_detect"]
    if detection is None:
        lines = [f"Detected: {UNKNOWN}."]
    elif to_detect is None:
        lines = [f"Detected {_when(detection)}."]
    else:
        lines = [f"Detected {_when(detection)}, {timefmt.duration(to_detect)} after impact began."]
    if alerts:
        lines += ["", "Alerts and pages:", ""]
        lines += [f"- {_when(e.occurred_at)} ({e.source.value}): {_first_line(e.text)}" for e in alerts]
    lines += ["", "How was the problem discovered: monitoring, a person, a customer?"]
    return "\n".join(lines)


def _key_moments(incident: Incident, entries: Sequence[TimelineEntry]) -> str:
    moments = [e for e in entries if e.is_key_moment]
    if not moments:
        return ""
    return "\n".join(f"- {_when(e.occurred_at)}: {_first_line(e.text)}" for e in moments)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]

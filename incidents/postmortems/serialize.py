"""Post-mortems, their parts, action items and history as the API's JSON; and a post-mortem as Markdown."""

from __future__ import annotations

import difflib
from datetime import date
from typing import Any

from .. import timefmt
from ..models import TimelineEntry
from ..serialize import entry_json, iso, user_json
from . import times
from .models import ActionItem, ContributingFactor, Postmortem, PostmortemChange, PostmortemSection
from .templates import PostmortemTemplate


def template_json(template: PostmortemTemplate) -> dict[str, Any]:
    """A template: its sections with their prompts."""
    return {
        "key": template.key,
        "name": template.name,
        "description": template.description,
        "suggested_for": list(template.suggested_for),
        "default": template.is_default,
        "sections": [
            {"key": s.key, "title": s.title, "prompt": s.prompt, "required": s.required} for s in template.sections
        ],
    }


def section_json(section: PostmortemSection) -> dict[str, Any]:
    """A section with the version a save must name."""
    return {
        "key": section.key,
        "title": section.title,
        "prompt": section.prompt,
        "required": section.required,
        "body": section.body,
        "version": section.version,
        "updated_by": user_json(section.updated_by) if section.updated_by else None,
        "updated_at": iso(section.updated_at),
    }


def factor_json(factor: ContributingFactor) -> dict[str, Any]:
    """A contributing factor; parent_id links a "how" follow-up to the factor it explores."""
    return {"id": factor.id, "parent_id": factor.parent_id, "category": factor.category, "text": factor.text}


def action_item_json(item: ActionItem, today: date | None = None) -> dict[str, Any]:
    """An action item, with whether it is overdue today."""
    return {
        "id": item.id,
        "postmortem_id": item.postmortem_id,
        "incident_id": item.postmortem.incident_id,
        "title": item.title,
        "owner": user_json(item.owner) if item.owner else None,
        "owner_team": item.owner_team,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "overdue": item.is_overdue(today or date.today()),
        "priority": item.priority.value,
        "type": item.type.value,
        "status": item.status.value,
        "wont_do_reason": item.wont_do_reason,
        "ticket_url": item.ticket_url,
        "done_at": iso(item.done_at),
    }


def postmortem_json(postmortem: Postmortem) -> dict[str, Any]:
    """The whole post-mortem: sections, agreed timeline, factors, action items and metrics."""
    agreed = agreed_entries(postmortem)
    return {
        "id": postmortem.id,
        "incident_id": postmortem.incident_id,
        "title": postmortem.title,
        "template": postmortem.template_key,
        "status": postmortem.status.value,
        "version": postmortem.version,
        "facilitator": user_json(postmortem.facilitator) if postmortem.facilitator else None,
        "meeting_at": iso(postmortem.meeting_at),
        "metrics": {
            "severity": postmortem.agreed_severity,
            "downtime_seconds": postmortem.agreed_downtime_seconds,
            "time_to_detect_seconds": postmortem.agreed_time_to_detect_seconds,
            "time_to_resolve_seconds": postmortem.agreed_time_to_resolve_seconds,
        },
        "sections": [section_json(s) for s in postmortem.sections],
        "agreed_timeline": [entry_json(e) for e in agreed],
        "contributing_factors": [factor_json(f) for f in postmortem.factors],
        "action_items": [action_item_json(a) for a in postmortem.action_items],
        "acknowledged_findings": postmortem.acknowledged_findings,
        "created_at": iso(postmortem.created_at),
        "updated_at": iso(postmortem.updated_at),
        "published_at": iso(postmortem.published_at),
    }


def agreed_entries(postmortem: Postmortem) -> list[TimelineEntry]:
    """The agreed timeline in the order things happened, without entries deleted since."""
    entries = [a.entry for a in postmortem.agreed_timeline if a.entry.deleted_at is None]
    return sorted(entries, key=lambda e: (e.occurred_at, e.id))


def change_json(change: PostmortemChange) -> dict[str, Any]:
    """One saved change, with a unified diff of the text when there is one."""
    diff = None
    if change.before is not None or change.after is not None:
        diff = "".join(
            difflib.unified_diff(
                # Every line ends in a newline, so a last line without one does not run into the next.
                [line + "\n" for line in (change.before or "").splitlines()],
                [line + "\n" for line in (change.after or "").splitlines()],
                fromfile="before",
                tofile="after",
            )
        )
    return {
        "id": change.id,
        "at": iso(change.changed_at),
        "by": user_json(change.changed_by) if change.changed_by else None,
        "subject": change.subject,
        "summary": change.summary,
        "diff": diff,
    }


def postmortem_markdown(postmortem: Postmortem, zone: str) -> str:
    """The published document as Markdown with YAML-style front matter, its times in the zone it states
    once at the top."""
    incident = postmortem.incident
    front = {
        "title": postmortem.title,
        "incident": incident.id,
        "severity": postmortem.agreed_severity or incident.severity,
        "status": postmortem.status.value,
        "template": postmortem.template_key,
        "published_at": iso(postmortem.published_at) or "",
        "downtime_seconds": postmortem.agreed_downtime_seconds,
        "time_to_detect_seconds": postmortem.agreed_time_to_detect_seconds,
        "time_to_resolve_seconds": postmortem.agreed_time_to_resolve_seconds,
        "timezone": zone,
    }
    lines = ["---"] + [f"{k}: {_yaml_scalar(v)}" for k, v in front.items()] + ["---", "", f"# {postmortem.title}", ""]
    lines += [f"_Times are in {zone}._", ""]
    for section in postmortem.sections:
        lines += [f"## {section.title}", "", times.plain(section.body.strip(), zone) or "_(empty)_", ""]
    lines += ["## Timeline", ""]
    agreed = agreed_entries(postmortem)
    lines += [f"- {timefmt.local(e.occurred_at, zone)}: {times.plain(_first_line(e.text), zone)}" for e in agreed]
    lines += ["", "## Contributing factors", ""]
    lines += _factor_lines(postmortem.factors, None, 0) or ["_(none recorded)_"]
    for title, priority in (("Countermeasures", "countermeasure"), ("Lower-priority ideas", "idea")):
        items = [a for a in postmortem.action_items if a.priority.value == priority]
        lines += ["", f"## {title}", ""]
        lines += [
            f"- {a.title} ({a.type.value}; owner {a.owner.name if a.owner else a.owner_team}; "
            f"due {a.due_on}; {a.status.value})"
            for a in items
        ] or ["_(none)_"]
    return "\n".join(lines).rstrip() + "\n"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _factor_lines(factors: list[ContributingFactor], parent: int | None, depth: int) -> list[str]:
    lines = []
    for factor in factors:
        if factor.parent_id == parent:
            label = f"**{factor.category}**: " if parent is None else "how: "
            lines.append("  " * depth + f"- {label}{factor.text}")
            lines += _factor_lines(factors, factor.id, depth + 1)
    return lines


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'

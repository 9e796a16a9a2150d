"""Incidents, entries and users as the API's JSON: every time ISO 8601 with its offset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .chat.models import ChatMessage
from .models import KEY_TIMES, SINGLE_HOLDER_ROLES, Incident, IncidentRole, LabelKind, TimelineEntry, User


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, or None."""
    return value.isoformat() if value is not None else None


def user_json(user: User) -> dict[str, Any]:
    """A user as others see them."""
    return {"id": user.id, "email": user.email, "name": user.name}


def incident_json(incident: Incident) -> dict[str, Any]:
    """An incident with its key times, durations in seconds, labels and roles."""
    durations = incident.durations()
    roles: dict[str, Any] = {
        role.value: next((user_json(u) for u in incident.holders(role)), None) for role in SINGLE_HOLDER_ROLES
    }
    roles["participants"] = [user_json(u) for u in incident.holders(IncidentRole.PARTICIPANT)]
    return {
        "id": incident.id,
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity,
        "status": incident.status.value,
        "visibility": incident.visibility.value,
        "reference_timezone": incident.reference_timezone,
        **{name: iso(getattr(incident, name)) for name in KEY_TIMES},
        "closed_at": iso(incident.closed_at),
        "declared_at": iso(incident.declared_at),
        "updated_at": iso(incident.updated_at),
        "durations": {name: value.total_seconds() if value is not None else None for name, value in durations.items()},
        "services": incident.label_values(LabelKind.SERVICE),
        "teams": incident.label_values(LabelKind.TEAM),
        "tags": incident.label_values(LabelKind.TAG),
        "roles": roles,
    }


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    """A timeline entry, with its corrections."""
    return {
        "id": entry.id,
        "incident_id": entry.incident_id,
        "occurred_at": iso(entry.occurred_at),
        "recorded_at": iso(entry.recorded_at),
        "source": entry.source.value,
        "kind": entry.kind.value,
        "actor": {"id": entry.actor_id, "name": entry.actor_name},
        "text": entry.text,
        "evidence_url": entry.evidence_url,
        "is_key_moment": entry.is_key_moment,
        "external_id": entry.external_id,
        "edited_at": iso(entry.edited_at),
        "deleted_at": iso(entry.deleted_at),
        "revisions": [
            {
                "change": r.change.value,
                "revised_at": iso(r.revised_at),
                "revised_by": r.revised_by_id,
                "before": r.before,
            }
            for r in entry.revisions
        ],
    }


def chat_message_json(message: ChatMessage) -> dict[str, Any]:
    """A message of the incident's chat log."""
    return {
        "id": message.id,
        "incident_id": message.incident_id,
        "provider": message.provider,
        "channel_id": message.channel_id,
        "ts": message.ts,
        "thread_ts": message.thread_ts,
        "posted_at": iso(message.posted_at),
        "author": {"key": message.author_key, "name": message.author_name, "id": message.author_id},
        "text": message.text,
        "files": message.files,
        "permalink": message.permalink,
        "edited_at": iso(message.edited_at),
        "timeline_entry_id": message.entry_id,
    }

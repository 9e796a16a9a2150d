"""PagerDuty Webhooks V3 events as alert signals and responder actions. Pure functions."""

from __future__ import annotations

from typing import Any

from incidents.alerts.commands import AlertSignal, AlertState, ResponderAction, ResponseKind, Translation
from incidents.models import Source

from ..payloads import Unreadable, json_object, obj, sender_time, short_key, text

PD = Source.PAGERDUTY

# Event types that say nothing an incident's timeline needs: understood, acknowledged, ignored.
UNINTERESTING = (
    "pagey.ping",
    "service.",
    "incident.conference_bridge.updated",
    "incident.custom_field_values.updated",
    "incident.incident_type.changed",
    "incident.service_updated",
    "incident.workflow.",
    "incident.action_invocation.",
    "incident.task.",
    "incident.role.assigned",
    "incident.responder.replied",
)


def translate_event(body: bytes) -> Translation:
    """One webhook (one event, by PagerDuty's design) as commands; unknown event types are a problem to keep."""
    try:
        payload = json_object(body)
        event = payload.get("event")
        if not isinstance(event, dict):
            raise Unreadable("no event object: is this a PagerDuty V3 webhook?")
        event_type = text(event.get("event_type"))
        event_id = text(event.get("id"))
        if not event_type or not event_id:
            raise Unreadable("the event has no id or no event_type")
        if event_type.startswith(UNINTERESTING):
            return Translation(ignored=f"PagerDuty event {event_type} needs nothing on a timeline")
        command = _command(event, event_type, short_key(event_id, 200))
    except Unreadable as exc:
        return Translation(problem=str(exc))
    if command is None:
        return Translation(problem=f"PagerDuty event type {event_type[:100]!r} is not understood yet")
    return Translation(commands=(command,))


def webhook_id(headers_value: str | None) -> str | None:
    """The delivery's X-Webhook-Id, repeated on every attempt; None when absent."""
    value = (headers_value or "").strip()
    return f"webhook:{value}" if value else None


def _command(event: dict[str, Any], event_type: str, event_id: str) -> AlertSignal | ResponderAction | None:
    data = obj(event.get("data"))
    occurred_at = sender_time(event.get("occurred_at"), field="occurred_at")
    agent = obj(event.get("agent"))
    # An agent that is a service or integration is automation, not a person.
    person = text(agent.get("summary")) if text(agent.get("type")).startswith("user") else ""
    by = f" by {person}" if person else ""
    if event_type in ("incident.triggered", "incident.reopened", "incident.resolved"):
        return _incident_signal(data, event_type, event_id, occurred_at, person)
    incident_id = (
        text(data.get("id")) if text(data.get("type")) == "incident" else text(obj(data.get("incident")).get("id"))
    )
    if not incident_id:
        raise Unreadable(f"{event_type} names no incident")
    kind = ResponseKind.OTHER
    if event_type == "incident.acknowledged":
        kind, line = ResponseKind.ACKNOWLEDGED, f"PagerDuty: acknowledged{by}"
    elif event_type == "incident.annotated":
        content = text(data.get("content"))
        kind, line = ResponseKind.NOTE, content or "(an empty note)"
    elif event_type == "incident.unacknowledged":
        line = "PagerDuty: the acknowledgement timed out; the incident is unacknowledged again"
    elif event_type in ("incident.escalated", "incident.reassigned", "incident.delegated"):
        verb = event_type.split(".")[1]
        line = f"PagerDuty: {verb} to {_names(data.get('assignees')) or 'the next responder'}{by}"
    elif event_type == "incident.priority_updated":
        priority = text(obj(data.get("priority")).get("summary")) or "none"
        line = f"PagerDuty: priority set to {priority}{by}"
    elif event_type == "incident.responder.added":
        line = f"PagerDuty: {text(obj(data.get('user')).get('summary')) or 'a responder'} asked to join{by}"
    elif event_type == "incident.status_update_published":
        line = f"PagerDuty status update{by}: {text(data.get('message'))}"
    else:
        return None
    return ResponderAction(
        source=PD,
        alert_key=short_key(incident_id, 200),
        kind=kind,
        event_id=event_id,
        text=line,
        actor_name=person,
        occurred_at=occurred_at,
        link=text(data.get("html_url")) or None,
    )


def _incident_signal(
    data: dict[str, Any], event_type: str, event_id: str, occurred_at: Any, person: str
) -> AlertSignal:
    if text(data.get("type")) != "incident" or not text(data.get("id")):
        raise Unreadable(f"{event_type} carries no incident")
    title = text(data.get("title")) or f"PagerDuty incident {text(data.get('number'))}".strip()
    service = text(obj(data.get("service")).get("summary")) or None
    state = AlertState.RESOLVED if event_type == "incident.resolved" else AlertState.FIRING
    by = f" by {person}" if person else ""
    if event_type == "incident.triggered":
        line = f"PagerDuty: “{title}” triggered" + (f" for {service}" if service else "")
    elif event_type == "incident.reopened":
        line = f"PagerDuty: “{title}” reopened{by}"
    else:
        line = f"PagerDuty: resolved{by}"
    priority = text(obj(data.get("priority")).get("summary"))
    facts = {
        "urgency": text(data.get("urgency")),
        "priority": priority,
        "service": service or "",
        "status": text(data.get("status")),
    }
    html_url = text(data.get("html_url"))
    return AlertSignal(
        source=PD,
        alert_key=short_key(text(data.get("id")), 200),
        # A reopened incident is a new occurrence; its later events carry the same reopened_at.
        occurrence_key=short_key(text(data.get("reopened_at")), 64),
        state=state,
        name=title,
        title=title,
        text=line,
        event_id=event_id,
        service=service,
        dedup_key=text(data.get("incident_key")) or None,
        facts={k: v for k, v in facts.items() if v},
        severity_hint=priority or None,
        started_at=sender_time(data.get("created_at"), field="data.created_at"),
        ended_at=occurred_at if state is AlertState.RESOLVED else None,
        occurred_at=occurred_at,
        detected_at=occurred_at if event_type == "incident.triggered" else None,
        links=(("PagerDuty incident", html_url),) if html_url else (),
        actor_name=person,
    )


def _names(references: Any) -> str:
    if not isinstance(references, list):
        return ""
    return ", ".join(name for name in (text(obj(r).get("summary")) for r in references) if name)

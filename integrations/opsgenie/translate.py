"""Opsgenie alert action data as alert signals and responder actions. Pure functions."""

from __future__ import annotations

from typing import Any

from incidents.alerts.commands import AlertSignal, AlertState, ResponderAction, ResponseKind, Translation
from incidents.models import Source

from ..payloads import Unreadable, json_object, obj, sender_time, short_key, text

OG = Source.OPSGENIE

# Actions a responder takes, with how the timeline tells them.
OTHER_ACTIONS = {
    "unacknowledge": "acknowledgement withdrawn",
    "assignownership": "assigned",
    "takeownership": "ownership taken",
    "addresponder": "responder added",
    "escalate": "escalated",
    "escalatetonext": "escalated to the next responder",
    "addteam": "team added",
}


def translate_action(body: bytes) -> Translation:
    """One alert action as a command; an action we do not know is kept as a problem to replay."""
    try:
        payload = json_object(body)
        alert = payload.get("alert")
        action = text(payload.get("action"))
        if not isinstance(alert, dict) or not action:
            raise Unreadable("no action or no alert object: is this an Opsgenie webhook?")
        alert_id = text(alert.get("alertId"))
        if not alert_id:
            raise Unreadable("the alert has no alertId")
        command = _command(action, alert)
    except Unreadable as exc:
        return Translation(problem=str(exc))
    if command is None:
        return Translation(problem=f"Opsgenie action {action[:100]!r} is not understood yet")
    return Translation(commands=(command,))


def action_key(body: bytes) -> str | None:
    """(alertId, action, updatedAt): the same action delivered twice shares it; None when unreadable."""
    try:
        payload = json_object(body)
    except Unreadable:
        return None
    alert = obj(payload.get("alert"))
    parts = (text(alert.get("alertId")), text(payload.get("action")), text(alert.get("updatedAt")))
    return "action:" + short_key("/".join(parts), 200) if all(parts) else None


def _command(action: str, alert: dict[str, Any]) -> AlertSignal | ResponderAction | None:
    alert_id = short_key(text(alert.get("alertId")), 200)
    event_id = short_key(f"{text(alert.get('alertId'))}/{action}/{text(alert.get('updatedAt'))}", 200)
    # createdAt is epoch milliseconds, updatedAt nanoseconds: sender_time tells them apart by size.
    created = sender_time(alert.get("createdAt"), field="alert.createdAt")
    updated = sender_time(alert.get("updatedAt"), field="alert.updatedAt") or created
    person = text(alert.get("username"))
    by = f" by {person}" if person and person.lower() != "system" else ""
    message = text(alert.get("message")) or f"Opsgenie alert {text(alert.get('tinyId'))}".strip()
    entity = text(alert.get("entity")) or None
    name = action.lower()
    if name in ("create", "close"):
        state = AlertState.FIRING if name == "create" else AlertState.RESOLVED
        line = (
            f"Opsgenie: “{message}” created" + (f" for {entity}" if entity else "")
            if name == "create"
            else f"Opsgenie: closed{by}"
        )
        priority = text(alert.get("priority"))
        facts = {"priority": priority, "entity": entity or "", "source": text(alert.get("source"))}
        return AlertSignal(
            source=OG,
            alert_key=alert_id,
            occurrence_key="",
            state=state,
            name=message,
            title=message,
            text=line,
            event_id=event_id,
            service=entity,
            dedup_key=text(alert.get("alias")) or None,
            facts={k: v for k, v in facts.items() if v},
            severity_hint=priority or None,
            started_at=created,
            ended_at=updated if state is AlertState.RESOLVED else None,
            occurred_at=created if state is AlertState.FIRING else updated,
            detected_at=created,
            actor_name=person,
        )
    if name == "acknowledge":
        kind, line = ResponseKind.ACKNOWLEDGED, f"Opsgenie: acknowledged{by}"
    elif name == "addnote":
        kind, line = ResponseKind.NOTE, text(alert.get("note")) or "(an empty note)"
    elif name in OTHER_ACTIONS:
        owner = text(alert.get("owner"))
        to = f" to {owner}" if name == "assignownership" and owner else ""
        kind, line = ResponseKind.OTHER, f"Opsgenie: {OTHER_ACTIONS[name]}{to}{by}"
    else:
        return None
    return ResponderAction(
        source=OG, alert_key=alert_id, kind=kind, event_id=event_id, text=line, actor_name=person, occurred_at=updated
    )

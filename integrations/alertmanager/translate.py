"""Alertmanager's webhook notification (version 4) as alert signals. Pure functions; Grafana shares them."""

from __future__ import annotations

import hashlib
from typing import Any

from incidents.alerts.commands import AlertSignal, AlertState, Translation, sender_name
from incidents.models import Source

from ..payloads import Unreadable, json_object, labels, sender_time, short_key, text

SERVICE_LABELS = ("service", "app", "job")
SUMMARY_ANNOTATIONS = ("summary", "description", "message")
GRAFANA_LINKS = (("dashboard", "dashboardURL"), ("panel", "panelURL"))
LINK_ANNOTATIONS = (("runbook", "runbook_url"), ("runbook", "runbook"), ("dashboard", "dashboard_url"))


def translate_notification(body: bytes, *, source: Source = Source.ALERTMANAGER) -> Translation:
    """A notification's alerts, one signal each; a problem when any part cannot be read."""
    try:
        payload = json_object(body)
        alerts = payload.get("alerts")
        if not isinstance(alerts, list):
            raise Unreadable(f"no alerts list: is this an {sender_name(source)} webhook notification?")
        group_key = text(payload.get("groupKey"))
        signals = []
        for index, alert in enumerate(alerts):
            try:
                signals.append(alert_signal(alert, group_key=group_key, source=source))
            except Unreadable as exc:
                raise Unreadable(f"alert {index + 1}: {exc}") from None
    except Unreadable as exc:
        return Translation(problem=str(exc))
    if not signals:
        return Translation(ignored="the notification carries no alerts")
    return Translation(commands=tuple(signals))


def alert_signal(alert: Any, *, group_key: str, source: Source) -> AlertSignal:
    """One alert of a notification as a signal keyed by (fingerprint, startsAt, status)."""
    if not isinstance(alert, dict):
        raise Unreadable("an alert must be an object")
    alert_labels = labels(alert.get("labels"), field="labels")
    annotations = labels(alert.get("annotations"), field="annotations")
    state = _state(alert.get("status"))
    starts = alert.get("startsAt")
    started_at = sender_time(starts, field="startsAt")
    ended_at = sender_time(alert.get("endsAt"), field="endsAt")
    # Without a fingerprint, the label set names the alert just as Alertmanager's own hash does.
    fingerprint = text(alert.get("fingerprint")) or _label_hash(alert_labels)
    occurrence = short_key(text(starts), 64)
    name = alert_labels.get("alertname") or "Unnamed alert"
    service = _first(alert_labels, SERVICE_LABELS) or None
    summary = _first(annotations, SUMMARY_ANNOTATIONS)
    links = []
    graph = text(alert.get("generatorURL"))
    if graph:
        links.append(("graph", graph))
    for what, key in LINK_ANNOTATIONS:
        if annotations.get(key):
            links.append((what, annotations[key]))
    # Grafana adds links of its own to each alert.
    for what, key in GRAFANA_LINKS:
        if key in alert:
            url = text(alert[key])
            if url:
                links.append((what, url))
    resolved = state is AlertState.RESOLVED
    return AlertSignal(
        source=source,
        alert_key=short_key(fingerprint, 200),
        occurrence_key=occurrence,
        state=state,
        name=name,
        title=_title(name, service, summary),
        text=alert_text(sender_name(source), name, state, service, summary),
        event_id=short_key(f"{fingerprint}/{occurrence}/{state.value}", 200),
        service=service,
        dedup_key=group_key or None,
        facts=alert_labels,
        severity_hint=alert_labels.get("severity"),
        started_at=started_at,
        ended_at=ended_at if resolved else None,
        occurred_at=ended_at if resolved else started_at,
        links=tuple(links),
    )


def alert_text(sender: str, name: str, state: AlertState, service: str | None, summary: str) -> str:
    """How a person would log it: "Alertmanager: HighErrorRate firing for checkout (5xx ratio above 5%)"."""
    line = f"{sender}: {name} {state.value}"
    if service:
        line += f" for {service}"
    if summary and state is AlertState.FIRING:
        line += f" ({summary})"
    return line


def _first(values: dict[str, str], names: tuple[str, ...]) -> str:
    """The first of these names that has a value, or empty."""
    for name in names:
        value = values.get(name)
        if value:
            return value
    return ""


def _title(name: str, service: str | None, summary: str) -> str:
    title = f"{name} for {service}" if service else name
    return f"{title}: {summary}" if summary else title


_STATES = {state.value: state for state in AlertState}


def _state(value: Any) -> AlertState:
    state = _STATES.get(text(value).lower())
    if state is None:
        raise Unreadable(f"status {text(value)[:40]!r} is neither firing nor resolved")
    return state


def _label_hash(alert_labels: dict[str, str]) -> str:
    flat = "\x1f".join(f"{k}={v}" for k, v in sorted(alert_labels.items()))
    return "labels:" + hashlib.sha256(flat.encode("utf-8", "replace")).hexdigest()[:16]

"""Helpers for the integration tests: sender payloads and a look at what the database holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.alerts.models import AlertOccurrence, Delivery
from incidents.database import open_session
from incidents.models import Incident, TimelineEntry

AM_TOKEN = "am-test-token"


def am_alert(
    name: str = "HighErrorRate",
    *,
    service: str | None = "checkout",
    severity: str | None = "critical",
    status: str = "firing",
    starts: str = "2026-11-22T05:59:30.118Z",
    ends: str = "0001-01-01T00:00:00Z",
    fingerprint: str = "beb69e792e2dfd2e",
    instance: str = "checkout-1:8080",
    summary: str | None = "5xx ratio above 5%",
    runbook: str | None = "https://runbooks.example.com/high-error-rate",
) -> dict[str, Any]:
    """One alert as Alertmanager 0.25 sends it."""
    labels = {"alertname": name, "instance": instance}
    if service is not None:
        labels["service"] = service
    if severity is not None:
        labels["severity"] = severity
    annotations = {}
    if summary is not None:
        annotations["summary"] = summary
    if runbook is not None:
        annotations["runbook_url"] = runbook
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=job%3Aerrors%3Aratio5m+%3E+0.05",
        "fingerprint": fingerprint,
    }


def am_notification(
    *alerts: dict[str, Any], group_key: str = '{}:{alertname="HighErrorRate", service="checkout"}'
) -> dict[str, Any]:
    """A version 4 webhook notification of a group."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "receiver": "kintsugi",
        "status": "firing" if firing else "resolved",
        "alerts": list(alerts),
        "groupLabels": {"alertname": "HighErrorRate", "service": "checkout"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }


def post_json(client: Any, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    """POST a payload as the sender would: JSON bytes."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(path, data=body, headers={"Content-Type": "application/json", **(headers or {})})


def am_post(client: Any, payload: Any, token: str = AM_TOKEN) -> Any:
    """Deliver to /integrations/alertmanager with the Bearer token."""
    return post_json(client, "/integrations/alertmanager", payload, {"Authorization": f"Bearer {token}"})


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """A fresh session to look at the database (outside any request)."""
    with app.app_context():
        session = open_session()
        try:
            yield session
        finally:
            session.close()


def counts(app: Flask) -> dict[str, int]:
    """How many deliveries, incidents, timeline entries and alert occurrences are stored."""
    with db(app) as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (
                ("deliveries", Delivery),
                ("incidents", Incident),
                ("entries", TimelineEntry),
                ("occurrences", AlertOccurrence),
            )
        }


def timeline_texts(app: Flask, incident_id: int) -> list[str]:
    """An incident's entries' texts in the order they happened."""
    with db(app) as session:
        return list(
            session.scalars(
                select(TimelineEntry.text)
                .where(TimelineEntry.incident_id == incident_id)
                .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
            )
        )


PD_SECRET = "pd-test-secret"


def pd_event(
    event_type: str = "incident.triggered",
    *,
    event_id: str = "01KB4Q7ZV3M9T6X2R8N5C1D0EF",
    incident_id: str = "Q1KB2INC0042",
    occurred_at: str | None = None,
    urgency: str = "high",
    agent: str | None = "Bob Oncall",
    **data: Any,
) -> dict[str, Any]:
    """A PagerDuty V3 webhook body; incident data unless data says otherwise."""
    from datetime import datetime

    when = occurred_at or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    incident = {
        "id": incident_id,
        "type": "incident",
        "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
        "number": 4242,
        "status": event_type.rsplit(".", 1)[-1],
        "incident_key": "beb69e792e2dfd2e",
        "created_at": "2026-11-22T06:00:04Z",
        "title": "[FIRING:2] HighErrorRate checkout",
        "service": {"id": "PSVC001", "summary": "Checkout API", "type": "service_reference"},
        "assignees": [{"id": "PUSR0BOB", "summary": "Bob Oncall", "type": "user_reference"}],
        "priority": None,
        "urgency": urgency,
    }
    user = {"id": "PUSR0BOB", "summary": agent, "type": "user_reference"} if agent else None
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": when,
            "agent": user,
            "client": None,
            "data": data or incident,
        }
    }


def pd_post(
    client: Any, payload: Any, *, secret: str = PD_SECRET, webhook_id: str | None = None, signature: str | None = None
) -> Any:
    """Deliver to /integrations/pagerduty, signed as PagerDuty signs: v1=HMAC-SHA256 of the raw body."""
    import hashlib
    import hmac
    import uuid

    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-PagerDuty-Signature": signature or "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "X-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "User-Agent": "PagerDuty-Webhook/V3.0",
    }
    return post_json(client, "/integrations/pagerduty", body, headers)


OG_TOKEN = "og-test-token"


def og_action(
    action: str = "Create",
    *,
    alert_id: str = "7c1d9e52-3b8a-4f60-a1d2-9e8f7a6b5c4d",
    priority: str = "P1",
    updated_ns: int | None = None,
    username: str = "bob@acme.example",
    **alert: Any,
) -> dict[str, Any]:
    """An Opsgenie webhook body: createdAt in epoch milliseconds, updatedAt in nanoseconds."""
    import time

    now_ns = time.time_ns()
    body = {
        "alertId": alert_id,
        "message": "HighErrorRate on checkout",
        "tags": ["sev1", "checkout"],
        "tinyId": "1187",
        "entity": "checkout-api",
        "alias": "HighErrorRate/checkout",
        "createdAt": (now_ns - 60_000_000_000) // 1_000_000,
        "updatedAt": updated_ns or now_ns,
        "username": username,
        "source": "Prometheus",
        "priority": priority,
        **alert,
    }
    return {
        "action": action,
        "alert": body,
        "source": {"name": "", "type": "web"},
        "integrationId": "0a9b8c7d",
        "integrationName": "Kintsugi",
    }


def og_post(client: Any, payload: Any, token: str = OG_TOKEN) -> Any:
    """Deliver to /integrations/opsgenie with the secret header Opsgenie's integration is set to send."""
    return post_json(client, "/integrations/opsgenie", payload, {"X-Kintsugi-Token": token})


def use_rules(app: Flask, configured: list[dict[str, Any]]) -> None:
    """Route with these rules (before the defaults), as KINTSUGI_ALERT_RULES would."""
    from integrations import receiving, rules

    app.extensions[receiving.RULES] = rules.load_rules(
        {"ALERT_RULES": configured, "SEVERITIES": app.config["SEVERITIES"]}
    )


def only_incident(app: Flask) -> Incident:
    """The one incident there is, with its labels and roles loaded."""
    with db(app) as session:
        incidents = session.scalars(select(Incident)).all()
        assert len(incidents) == 1
        incident = incidents[0]
        assert incident.labels is not None and incident.assignments is not None
        return incident

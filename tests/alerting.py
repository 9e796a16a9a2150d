"""Helpers for the integration tests: sender payloads and a look at what the database holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.database import open_session
from incidents.models import AlertOccurrence, Delivery, Incident, TimelineEntry

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


def am_notification(*alerts: dict[str, Any], group_key: str = '{}:{alertname="HighErrorRate", service="checkout"}') -> dict[str, Any]:
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

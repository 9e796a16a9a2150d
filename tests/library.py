"""Helpers for the library's tests: published post-mortems through the API, and draining the outbox
so that the index has seen every change (the worker thread is off in tests)."""

from __future__ import annotations

import threading
from typing import Any

from conftest import Caller, declare
from flask import Flask

from incidents.outbox.worker import Worker


def index_now(app: Flask) -> None:
    """Apply every pending outbox row, as the worker would: the index then holds every change."""
    Worker(app).run(threading.Event(), threading.Event(), stop_when_empty=True)


def published(
    caller: Caller,
    *,
    title: str,
    summary: str,
    services: list[str],
    factors: list[tuple[str, str]],
    impact: str = "Customers saw errors for 40 minutes.",
    detection: str = "An alert paged the on-call engineer.",
    countermeasure: str = "Add an alert on the saturation of the pool",
    severity: str = "SEV2",
    visibility: str = "open",
    started_at: str = "2026-03-10T10:00:00+00:00",
    teams: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    **sections: str,
) -> dict[str, Any]:
    """Declare, resolve, review and publish; the published post-mortem (with its incident id)."""
    # The summary is the review's own words: a section holding only what the pre-fill copied from the
    # incident does not publish.
    incident = declare(
        caller,
        title=title,
        severity=severity,
        summary="",
        services=services,
        visibility=visibility,
        started_at=started_at,
        teams=list(teams),
        tags=list(tags),
    )
    resolved = caller.patch(f"/api/incidents/{incident['id']}", {"status": "resolved"})
    assert resolved.status_code == 200, resolved.get_json()
    started = caller.post(f"/api/incidents/{incident['id']}/postmortem", {})
    assert started.status_code == 201, started.get_json()
    postmortem = started.get_json()
    pid = postmortem["id"]
    versions = {s["key"]: s["version"] for s in postmortem["sections"]}
    texts = {"summary": summary, "impact": impact, "detection": detection, **sections}
    for key, body in texts.items():
        saved = caller.call("PUT", f"/api/postmortems/{pid}/sections/{key}", {"body": body, "version": versions[key]})
        assert saved.status_code == 200, saved.get_json()
    for category, text in factors:
        added = caller.post(f"/api/postmortems/{pid}/factors", {"category": category, "text": text})
        assert added.status_code == 201, added.get_json()
    item = {"title": countermeasure, "owner_team": "platform", "due_on": "2027-01-15"}
    assert caller.post(f"/api/postmortems/{pid}/action-items", item).status_code == 201
    done = caller.post(f"/api/postmortems/{pid}/publish", {})
    assert done.status_code == 200, done.get_json()
    result: dict[str, Any] = done.get_json()
    return result

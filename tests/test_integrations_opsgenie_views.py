"""POST /integrations/opsgenie: the secret header, (alertId, action, updatedAt) idempotency, and the timeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from alerting import OG_TOKEN, counts, db, og_action, og_post, timeline_texts
from flask import Flask
from sqlalchemy import select

from incidents.models import EntryKind, Incident, TimelineEntry
from integrations.opsgenie.translate import translate_action


@pytest.fixture
def og_app(app: Flask) -> Flask:
    app.config["OPSGENIE_TOKEN"] = OG_TOKEN
    return app


def test_refused_without_the_secret_header(og_app: Flask, client: Any) -> None:
    assert og_post(client, og_action(), token="guess").status_code == 403
    assert client.post("/integrations/opsgenie", json=og_action()).status_code == 401
    assert counts(og_app)["deliveries"] == 0


def test_create_acknowledge_note_and_close(og_app: Flask, client: Any) -> None:
    create = og_action()
    assert og_post(client, create).status_code == 200
    ack = og_action("Acknowledge")
    assert og_post(client, ack).status_code == 200
    assert og_post(client, ack).get_json()["status"] == "duplicate"
    og_post(client, og_action("AddNote", note="Rolled back; watching the error ratio", username="ana@acme.example"))
    og_post(client, og_action("Close"))
    with db(og_app) as session:
        incident = session.scalars(select(Incident)).one()
        note = session.scalars(select(TimelineEntry).where(TimelineEntry.kind == EntryKind.NOTE)).one()
        services = [label.value for label in incident.labels]
    assert (incident.title, incident.severity) == ("HighErrorRate on checkout", "SEV1")
    assert services == ["checkout-api"]
    assert incident.started_at == datetime.fromtimestamp(create["alert"]["createdAt"] / 1000, UTC)
    assert incident.acknowledged_at == datetime.fromtimestamp(ack["alert"]["updatedAt"] // 1000 / 1e6, UTC)
    assert (note.text, note.actor_name) == ("Rolled back; watching the error ratio", "ana@acme.example")
    texts = timeline_texts(og_app, incident.id)
    assert "Opsgenie: “HighErrorRate on checkout” created for checkout-api" in texts
    assert "Opsgenie: acknowledged by bob@acme.example" in texts
    assert "Opsgenie: closed by bob@acme.example" in texts
    assert texts.count("Opsgenie: acknowledged by bob@acme.example") == 1


def test_low_priorities_are_only_recorded_and_unknown_actions_kept(og_app: Flask, client: Any) -> None:
    og_post(client, og_action(priority="P5", alert_id="low-1"))
    assert counts(og_app)["incidents"] == 0 and counts(og_app)["occurrences"] == 1
    answer = og_post(client, og_action("Snooze", alert_id="low-1"))
    assert answer.status_code == 202 and "Snooze" in answer.get_json()["message"]
    bad = og_post(client, b'{"action": "Create", "alert": {"alertId": ')
    assert bad.status_code == 202


def test_translation_reads_milliseconds_and_nanoseconds() -> None:
    result = translate_action(json.dumps(og_action("Acknowledge", updated_ns=1420452193166002000)).encode())
    (action,) = result.commands
    assert action.occurred_at == datetime(2015, 1, 5, 10, 3, 13, 166002, tzinfo=UTC)
    assert "no alertId" in (translate_action(b'{"action": "Create", "alert": {}}').problem or "")

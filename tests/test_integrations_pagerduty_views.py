"""POST /integrations/pagerduty: signatures with rotation, redeliveries, and the incident its events write."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alerting import PD_SECRET, counts, db, pd_event, pd_post, timeline_texts
from flask import Flask
from sqlalchemy import select

from incidents.alerts.models import Delivery, DeliveryOutcome
from incidents.models import EntryKind, Incident, Status, TimelineEntry

# The rotation vector of the wire-format reference: one body signed by an old and a new secret.
PING = (
    b'{"event":{"id":"01KBTEST0000000000000000","event_type":"pagey.ping","resource_type":"pagey",'
    b'"occurred_at":"2024-11-22T06:00:00.000Z","agent":null,"client":null,'
    b'"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}'
)
OLD = "v1=d63355f19af936f7a0e649c3b08a9031707f065f9b073397d6aef3768bfe2a06"
NEW = "v1=48520c43ab97effcc52a756092d81ca09e625205f2ac0e00107e6e6bce921adb"


@pytest.fixture
def pd_app(app: Flask) -> Flask:
    app.config["PAGERDUTY_WEBHOOK_SECRETS"] = PD_SECRET
    return app


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("configured", "header"),
    [
        ("old-secret-aaaa", f"{OLD},{NEW}"),
        ("new-secret-bbbb", f"{OLD},{NEW}"),
        ("old-secret-aaaa, new-secret-bbbb", NEW),
        ("old-secret-aaaa,new-secret-bbbb", f"v0=abc,{OLD}"),
    ],
)
def test_any_v1_signature_under_any_configured_secret_is_accepted(
    app: Flask, client: Any, configured: str, header: str
) -> None:
    app.config["PAGERDUTY_WEBHOOK_SECRETS"] = configured
    answer = pd_post(client, PING, signature=header)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "ignored"


@pytest.mark.parametrize(
    ("configured", "body", "header", "status"),
    [
        (None, PING, OLD, 401),
        ("old-secret-aaaa", PING, "", 401),
        ("old-secret-aaaa", PING, "sha256=d63355f1", 401),
        ("old-secret-aaaa", PING.replace(b"Pagey!", b"Pagey?"), OLD, 403),
        ("new-secret-bbbb", PING, OLD, 403),
        ("old-secret-aaaa", PING, "v1=zz☃", 403),
    ],
)
def test_unauthenticated_deliveries_are_refused_and_store_nothing(
    app: Flask, client: Any, configured: str | None, body: bytes, header: str, status: int
) -> None:
    if configured:
        app.config["PAGERDUTY_WEBHOOK_SECRETS"] = configured
    headers = {"X-PagerDuty-Signature": header} if header else {}
    answer = client.post("/integrations/pagerduty", data=body, headers={"Content-Type": "application/json", **headers})
    assert answer.status_code == status
    assert answer.get_json()["error"]["message"]
    assert counts(app)["deliveries"] == 0


def test_trigger_ack_note_and_resolve_write_the_response_backbone(pd_app: Flask, client: Any) -> None:
    triggered_at = datetime.now(UTC) - timedelta(seconds=30)
    assert pd_post(client, pd_event(occurred_at=iso(triggered_at))).status_code == 200
    ack = pd_event("incident.acknowledged", event_id="EV-ACK")
    note = pd_event(
        "incident.annotated",
        event_id="EV-NOTE",
        agent="Ana Lyst",
        type="incident_note",
        content="Rolled back to v2024.11.21-3",
        incident={"id": "Q1KB2INC0042"},
    )
    resolved = pd_event("incident.resolved", event_id="EV-RES")
    for event in (ack, note, resolved):
        answer = pd_post(client, event)
        assert answer.status_code == 200 and answer.get_json()["status"] == "applied", answer.get_json()
    with db(pd_app) as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.title == "[FIRING:2] HighErrorRate checkout"
        assert incident.severity == "SEV2"
        assert incident.started_at == datetime(2026, 11, 22, 6, 0, 4, tzinfo=UTC)
        assert incident.detected_at == triggered_at.replace(microsecond=triggered_at.microsecond // 1000 * 1000)
        assert incident.acknowledged_at is not None
        assert incident.acknowledged_at == datetime.fromisoformat(ack["event"]["occurred_at"])
        assert incident.status is Status.INVESTIGATING  # a human resolves it in Kintsugi
        entries = {e.text: e for e in session.scalars(select(TimelineEntry))}
    assert entries["PagerDuty: acknowledged by Bob Oncall"].is_key_moment
    assert entries["PagerDuty: acknowledged by Bob Oncall"].kind is EntryKind.ACTION
    assert entries["Rolled back to v2024.11.21-3"].kind is EntryKind.NOTE
    assert entries["Rolled back to v2024.11.21-3"].actor_name == "Ana Lyst"
    assert "PagerDuty: resolved by Bob Oncall" in entries
    triggered = entries["PagerDuty: “[FIRING:2] HighErrorRate checkout” triggered for Checkout API"]
    assert triggered.evidence_url == "https://acme.pagerduty.com/incidents/Q1KB2INC0042"


def test_redeliveries_by_webhook_id_and_by_event_id_change_nothing(pd_app: Flask, client: Any) -> None:
    event = pd_event()
    assert pd_post(client, event, webhook_id="wh-1").status_code == 200
    again = pd_post(client, event, webhook_id="wh-1")
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    ack = pd_event("incident.acknowledged", event_id="EV-ACK")
    pd_post(client, ack, webhook_id="wh-2")
    pd_post(client, ack, webhook_id="wh-3")  # the same event through another subscription
    with db(pd_app) as session:
        incident = session.scalars(select(Incident)).one()
    texts = timeline_texts(pd_app, incident.id)
    assert texts.count("PagerDuty: acknowledged by Bob Oncall") == 1
    assert counts(pd_app)["deliveries"] == 3
    assert counts(pd_app)["incidents"] == 1


def test_a_later_acknowledgement_does_not_move_the_first(pd_app: Flask, client: Any) -> None:
    pd_post(client, pd_event())
    first = pd_post(client, pd_event("incident.acknowledged", event_id="EV-1"))
    assert first.status_code == 200
    pd_post(client, pd_event("incident.unacknowledged", event_id="EV-2", agent=None))
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-3", agent="Carol"))
    with db(pd_app) as session:
        incident = session.scalars(select(Incident)).one()
        acks = session.scalars(
            select(TimelineEntry).where(TimelineEntry.text.like("PagerDuty: acknowledged%")).order_by(TimelineEntry.id)
        ).all()
    assert [a.text for a in acks] == ["PagerDuty: acknowledged by Bob Oncall", "PagerDuty: acknowledged by Carol"]
    assert incident.acknowledged_at == acks[0].occurred_at
    assert "PagerDuty: the acknowledgement timed out; the incident is unacknowledged again" in timeline_texts(
        pd_app, incident.id
    )


def test_low_urgency_is_recorded_without_an_incident(pd_app: Flask, client: Any) -> None:
    pd_post(client, pd_event(urgency="low", incident_id="QLOW"))
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-LOW-ACK", incident_id="QLOW", urgency="low"))
    assert counts(pd_app) == {"deliveries": 2, "incidents": 0, "entries": 0, "occurrences": 1}


def test_unknown_event_types_are_kept_for_replay_and_answered_2xx(pd_app: Flask, client: Any) -> None:
    answer = pd_post(client, pd_event("incident.teleported"))
    assert answer.status_code == 202
    assert "incident.teleported" in answer.get_json()["message"]
    ignored = pd_post(client, pd_event("service.updated", event_id="EV-SVC"))
    assert ignored.status_code == 200 and ignored.get_json()["status"] == "ignored"
    truncated = pd_post(client, json.dumps(pd_event()).encode()[:-20])
    assert truncated.status_code == 202 and "not JSON" in truncated.get_json()["message"]
    with db(pd_app) as session:
        outcomes = [d.outcome for d in session.scalars(select(Delivery).order_by(Delivery.id))]
    assert outcomes == [DeliveryOutcome.UNDECIPHERABLE, DeliveryOutcome.IGNORED, DeliveryOutcome.UNDECIPHERABLE]
    assert counts(pd_app)["incidents"] == 0


def test_unicode_names_and_notes(pd_app: Flask, client: Any) -> None:
    event = pd_event()
    event["event"]["data"]["title"] = "Kassé 💥 «checkout»"
    pd_post(client, event)
    pd_post(client, pd_event("incident.acknowledged", event_id="EV-U", agent="Zoë Ørsted 山田"))
    with db(pd_app) as session:
        incident = session.scalars(select(Incident)).one()
    assert incident.title == "Kassé 💥 «checkout»"
    assert "PagerDuty: acknowledged by Zoë Ørsted 山田" in timeline_texts(pd_app, incident.id)


def test_without_a_webhook_id_an_identical_redelivery_is_still_recognised(pd_app: Flask, client: Any) -> None:
    import hashlib
    import hmac

    body = json.dumps(pd_event()).encode()
    signature = "v1=" + hmac.new(PD_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-PagerDuty-Signature": signature}
    assert client.post("/integrations/pagerduty", data=body, headers=headers).get_json()["status"] == "applied"
    assert client.post("/integrations/pagerduty", data=body, headers=headers).get_json()["status"] == "duplicate"
    assert counts(pd_app)["deliveries"] == 1


def test_a_ten_megabyte_body_is_refused_before_anything_is_stored(pd_app: Flask, client: Any) -> None:
    event = pd_event()
    event["event"]["data"]["title"] = "x" * (10 * 1024 * 1024)
    answer = pd_post(client, event)
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "request_entity_too_large"
    assert counts(pd_app)["deliveries"] == 0

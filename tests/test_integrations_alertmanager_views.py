"""POST /integrations/alertmanager: authenticity, raw storage, idempotency, routing and the timeline it writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alerting import (
    AM_TOKEN,
    am_alert,
    am_notification,
    am_post,
    counts,
    db,
    only_incident,
    post_json,
    timeline_texts,
    use_rules,
)
from flask import Flask, session
from sqlalchemy import select

from app import create_app
from incidents.alerts.models import AlertOccurrence, Delivery, DeliveryOutcome
from incidents.models import Status, TimelineEntry

STARTS = datetime(2026, 11, 22, 5, 59, 30, 118000, tzinfo=UTC)


@pytest.fixture
def am_app(app: Flask) -> Flask:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    return app


def test_refused_without_configuration_or_with_a_wrong_token(app: Flask, client: Any) -> None:
    payload = am_notification(am_alert())
    answer = am_post(client, payload)
    assert answer.status_code == 401
    assert "KINTSUGI_ALERTMANAGER_TOKEN" in answer.get_json()["error"]["message"]
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    assert post_json(client, "/integrations/alertmanager", payload).status_code == 401
    assert am_post(client, payload, token="wrong-token").status_code == 403
    assert am_post(client, payload, token="wröng-tøken").status_code == 403
    assert counts(app) == {"deliveries": 0, "incidents": 0, "entries": 0, "occurrences": 0}
    secret_header = post_json(client, "/integrations/alertmanager", payload, {"X-Kintsugi-Token": AM_TOKEN})
    assert secret_header.status_code == 200


def test_a_critical_alert_declares_an_incident_whose_timeline_writes_itself(am_app: Flask, client: Any) -> None:
    before = datetime.now(UTC)
    answer = am_post(client, am_notification(am_alert()))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "applied"
    incident = only_incident(am_app)
    assert answer.get_json()["incidents"] == [incident.id]
    assert incident.title == "HighErrorRate for checkout: 5xx ratio above 5%"
    assert incident.severity == "SEV2"
    assert incident.status is Status.INVESTIGATING
    assert [label.value for label in incident.labels] == ["checkout"]
    assert incident.started_at == STARTS
    assert incident.detected_at is not None and before <= incident.detected_at <= datetime.now(UTC)
    with db(am_app) as session:
        entries = session.scalars(select(TimelineEntry).order_by(TimelineEntry.occurred_at, TimelineEntry.id)).all()
        firing = entries[0]
        assert firing.text == "Alertmanager: HighErrorRate firing for checkout (5xx ratio above 5%)"
        assert firing.occurred_at == STARTS
        assert firing.source.value == "alertmanager"
        assert firing.evidence_url and firing.evidence_url.startswith("http://prometheus.example.com/graph")
        assert {e.evidence_url for e in entries} >= {"https://runbooks.example.com/high-error-rate"}
        assert any(e.text.startswith("Alertmanager: declared a SEV2 incident") for e in entries)
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.outcome is DeliveryOutcome.APPLIED
        assert json.loads(delivery.body)["alerts"][0]["fingerprint"] == "beb69e792e2dfd2e"
        assert delivery.headers["Authorization"] == "[redacted]"


def test_repeats_and_grown_groups_add_each_alert_occurrence_once(am_app: Flask, client: Any) -> None:
    first = am_notification(am_alert())
    assert am_post(client, first).status_code == 200
    again = am_post(client, first)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert counts(am_app)["deliveries"] == 1
    second = am_alert(instance="checkout-2:8080", fingerprint="d0aaffad64e0032d")
    grown = am_notification(am_alert(), second)
    grown["truncatedAlerts"] = 0
    grown["receiver"] = "kintsugi-2"  # a different body: a new delivery, with one old and one new alert
    assert am_post(client, grown).status_code == 200
    incident = only_incident(am_app)
    texts = timeline_texts(am_app, incident.id)
    assert texts.count("Alertmanager: HighErrorRate firing for checkout (5xx ratio above 5%)") == 2
    assert counts(am_app)["occurrences"] == 2
    assert counts(am_app)["deliveries"] == 2


def test_resolution_adds_an_entry_and_the_incident_stays_for_a_human_to_resolve(am_app: Flask, client: Any) -> None:
    am_post(client, am_notification(am_alert()))
    resolved = am_alert(status="resolved", ends="2026-11-22T06:04:45.020Z")
    assert am_post(client, am_notification(resolved)).status_code == 200
    assert am_post(client, am_notification(resolved) | {"receiver": "again"}).status_code == 200
    incident = only_incident(am_app)
    texts = timeline_texts(am_app, incident.id)
    assert texts.count("Alertmanager: HighErrorRate resolved for checkout") == 1
    assert incident.status is Status.INVESTIGATING
    assert incident.mitigated_at is None


def test_a_rule_can_mark_the_incident_mitigated_when_every_alert_resolved(am_app: Flask, client: Any) -> None:
    use_rules(
        am_app,
        [
            {
                "source": "alertmanager",
                "match": {"severity": "critical"},
                "action": "declare",
                "severity": "SEV1",
                "mitigate_when_resolved": True,
            }
        ],
    )
    other = dict(instance="checkout-2:8080", fingerprint="d0aaffad64e0032d")
    am_post(client, am_notification(am_alert(), am_alert(**other)))
    am_post(client, am_notification(am_alert(status="resolved", ends="2026-11-22T06:04:45Z"), am_alert(**other)))
    assert only_incident(am_app).status is Status.INVESTIGATING
    # The last alert ends after it reached us (as alerts do); that end is when impact stopped.
    ended = datetime.now(UTC).replace(microsecond=0)
    am_post(client, am_notification(am_alert(status="resolved", ends=ended.isoformat(), **other)))
    learned = datetime.now(UTC)
    incident = only_incident(am_app)
    assert incident.severity == "SEV1"
    assert incident.status is Status.MITIGATED
    assert incident.detected_at is not None and incident.mitigated_at is not None
    if ended >= incident.detected_at:
        assert incident.mitigated_at == ended
    else:
        # An end before detection would break the order of the key times: it is mitigated when
        # Kintsugi learned it, never patched to the detection time.
        assert ended < incident.mitigated_at <= learned
    assert timeline_texts(am_app, incident.id)[-1] == (
        "Alertmanager: every alert of this incident has resolved; status changed from investigating to mitigated."
    )


def test_lesser_alerts_attach_to_an_open_incident_of_their_service_or_are_only_recorded(
    am_app: Flask, client: Any
) -> None:
    warning = am_alert("SlowCheckout", severity="warning", fingerprint="aaaa000000000001", summary="p99 above 2 s")
    am_post(client, am_notification(warning, group_key="warn"))
    assert counts(am_app)["incidents"] == 0 and counts(am_app)["occurrences"] == 1
    am_post(client, am_notification(am_alert()))
    incident = only_incident(am_app)
    later = am_alert(
        "SlowCheckout",
        severity="warning",
        fingerprint="aaaa000000000001",
        starts="2026-11-22T06:30:00Z",
        summary="p99 above 2 s",
    )
    am_post(client, am_notification(later, group_key="warn"))
    info = am_alert("DiskFilling", severity="info", service="checkout", fingerprint="bbbb000000000001")
    am_post(client, am_notification(info, group_key="info"))
    texts = timeline_texts(am_app, incident.id)
    assert "Alertmanager: SlowCheckout firing for checkout (p99 above 2 s)" in texts
    assert not any("DiskFilling" in t for t in texts)
    with db(am_app) as session:
        states = {(o.name, o.incident_id) for o in session.scalars(select(AlertOccurrence))}
    assert states == {
        ("SlowCheckout", None),
        ("SlowCheckout", incident.id),
        ("DiskFilling", None),
        ("HighErrorRate", incident.id),
    }


def test_a_refiring_alert_is_a_new_occurrence(am_app: Flask, client: Any) -> None:
    am_post(client, am_notification(am_alert()))
    am_post(client, am_notification(am_alert(status="resolved", ends="2026-11-22T06:04:45Z")))
    am_post(client, am_notification(am_alert(starts="2026-11-22T07:00:00Z")))
    incident = only_incident(am_app)
    texts = timeline_texts(am_app, incident.id)
    assert texts.count("Alertmanager: HighErrorRate firing for checkout (5xx ratio above 5%)") == 2
    assert counts(am_app)["occurrences"] == 2


def test_the_database_being_down_answers_503_so_alertmanager_retries(tmp_path: Any) -> None:
    down = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "ALERTMANAGER_TOKEN": AM_TOKEN,
            "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
        }
    )
    answer = am_post(down.test_client(), am_notification(am_alert()))
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "unavailable"


def test_a_body_of_ten_megabytes_is_refused_with_413_and_nothing_stored(am_app: Flask, client: Any) -> None:
    payload = am_notification(am_alert(summary="x" * (10 * 1024 * 1024)))
    answer = am_post(client, payload)
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "request_entity_too_large"
    assert counts(am_app)["deliveries"] == 0


def test_a_sender_clock_ahead_of_ours_does_not_put_times_in_the_future(am_app: Flask, client: Any) -> None:
    ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert am_post(client, am_notification(am_alert(starts=ahead))).status_code == 200
    incident = only_incident(am_app)
    assert incident.started_at <= datetime.now(UTC)
    assert incident.detected_at is not None and incident.started_at <= incident.detected_at


def test_a_runbook_shared_by_a_group_is_one_piece_of_evidence_per_incident(am_app: Flask, client: Any) -> None:
    def alert(n: int, status: str = "firing") -> dict[str, Any]:
        resolved = {"ends": "2026-11-22T06:09:30Z"} if status == "resolved" else {}
        return am_alert(fingerprint=f"beb69e792e2d{n:04x}", instance=f"checkout-{n}:8080", status=status, **resolved)

    assert am_post(client, am_notification(alert(1), alert(2), alert(3))).status_code == 200
    assert am_post(client, am_notification(alert(1), alert(2), alert(3), alert(4))).status_code == 200
    assert am_post(client, am_notification(*(alert(n, "resolved") for n in (1, 2, 3, 4)))).status_code == 200
    with db(am_app) as session:
        entries = session.scalars(select(TimelineEntry)).all()
    runbooks = [e for e in entries if e.evidence_url == "https://runbooks.example.com/high-error-rate"]
    assert [e.text for e in runbooks] == ["Alertmanager: runbook for HighErrorRate"]
    alerts = [e for e in entries if e.kind.value == "alert"]
    # Every alert still has its own firing and resolved entry, each with its graph link.
    assert len(alerts) == 8
    assert all(e.evidence_url and e.evidence_url.startswith("http://prometheus.example.com/graph") for e in alerts)


def test_senders_get_no_browser_session(am_app: Flask) -> None:
    with am_app.test_request_context("/integrations/alertmanager", method="POST"):
        assert am_app.session_interface.is_null_session(session)
    with am_app.test_request_context("/incidents"):
        assert not am_app.session_interface.is_null_session(session)

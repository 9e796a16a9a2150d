"""PagerDuty V3 events to commands: pure functions tested with plain payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alerting import pd_event

from incidents.alerts.commands import AlertSignal, AlertState, ResponderAction, ResponseKind
from integrations.pagerduty.translate import translate_event


def one(payload: dict[str, object]) -> AlertSignal | ResponderAction:
    result = translate_event(json.dumps(payload).encode())
    assert result.problem is None, result.problem
    (command,) = result.commands
    return command


def test_a_trigger_is_a_firing_signal_with_the_facts_rules_match_on() -> None:
    signal = one(pd_event(occurred_at="2026-11-22T06:00:04.512Z"))
    assert isinstance(signal, AlertSignal)
    assert (signal.alert_key, signal.occurrence_key, signal.state) == ("Q1KB2INC0042", "", AlertState.FIRING)
    assert signal.facts == {"urgency": "high", "service": "Checkout API", "status": "triggered"}
    assert signal.dedup_key == "beb69e792e2dfd2e"
    assert signal.detected_at == datetime(2026, 11, 22, 6, 0, 4, 512000, tzinfo=UTC)
    assert signal.started_at == datetime(2026, 11, 22, 6, 0, 4, tzinfo=UTC)


def test_priority_becomes_the_severity_hint() -> None:
    event = pd_event()
    event["event"]["data"]["priority"] = {"id": "PPRI1", "summary": "P1", "type": "priority_reference"}
    signal = one(event)
    assert isinstance(signal, AlertSignal) and signal.severity_hint == "P1" and signal.facts["priority"] == "P1"


def test_acknowledgement_by_automation_names_no_person() -> None:
    event = pd_event("incident.acknowledged", agent=None)
    action = one(event)
    assert isinstance(action, ResponderAction)
    assert (action.kind, action.text, action.actor_name) == (ResponseKind.ACKNOWLEDGED, "PagerDuty: acknowledged", "")


def test_escalation_names_the_new_assignees() -> None:
    action = one(pd_event("incident.escalated", agent=None))
    assert isinstance(action, ResponderAction)
    assert action.text == "PagerDuty: escalated to Bob Oncall"


def test_a_reopened_incident_is_a_new_occurrence() -> None:
    event = pd_event("incident.reopened")
    event["event"]["data"]["reopened_at"] = "2026-11-22T08:00:00Z"
    signal = one(event)
    assert isinstance(signal, AlertSignal) and signal.occurrence_key == "2026-11-22T08:00:00Z"
    assert signal.text == "PagerDuty: “[FIRING:2] HighErrorRate checkout” reopened by Bob Oncall"


def test_events_without_ids_or_incidents_are_problems() -> None:
    assert "no id" in (translate_event(b'{"event": {"event_type": "incident.triggered"}}').problem or "")
    assert "no event object" in (translate_event(b'{"messages": []}').problem or "")
    note = pd_event("incident.annotated", type="incident_note", content="x")
    assert "names no incident" in (translate_event(json.dumps(note).encode()).problem or "")

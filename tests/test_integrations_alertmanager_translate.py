"""Alertmanager's notification to signals: pure functions tested with plain payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from alerting import am_alert, am_notification

from incidents.alerts.commands import AlertState
from incidents.models import Source
from integrations.alertmanager.translate import translate_notification
from integrations.payloads import Unreadable, sender_time


def translate(payload: object) -> object:
    return translate_notification(json.dumps(payload).encode())


def test_a_firing_and_a_resolved_alert_become_two_signals_keyed_by_fingerprint_and_start() -> None:
    resolved = am_alert(status="resolved", ends="2024-11-22T06:04:45.020Z", fingerprint="d0aaffad64e0032d")
    result = translate_notification(json.dumps(am_notification(am_alert(), resolved)).encode())
    assert result.problem is None
    firing, ended = result.commands
    assert firing.source is Source.ALERTMANAGER
    assert (firing.alert_key, firing.occurrence_key, firing.state) == (
        "beb69e792e2dfd2e",
        "2026-11-22T05:59:30.118Z",
        AlertState.FIRING,
    )
    assert firing.event_id == "beb69e792e2dfd2e/2026-11-22T05:59:30.118Z/firing"
    assert firing.text == "Alertmanager: HighErrorRate firing for checkout (5xx ratio above 5%)"
    assert firing.ended_at is None
    assert firing.facts["severity"] == "critical"
    assert [what for what, _ in firing.links] == ["graph", "runbook"]
    assert ended.state is AlertState.RESOLVED
    assert ended.text == "Alertmanager: HighErrorRate resolved for checkout"
    assert ended.ended_at == datetime(2024, 11, 22, 6, 4, 45, 20000, tzinfo=UTC)


def test_grafana_shares_the_reading_but_speaks_in_its_own_name() -> None:
    result = translate_notification(json.dumps(am_notification(am_alert(service=None))).encode(), source=Source.GRAFANA)
    assert result.commands[0].text == "Grafana: HighErrorRate firing (5xx ratio above 5%)"


def test_an_empty_group_is_understood_and_ignored() -> None:
    result = translate_notification(json.dumps(am_notification()).encode())
    assert result.commands == () and result.problem is None
    assert result.ignored == "the notification carries no alerts"


def test_alerts_without_a_fingerprint_are_named_by_their_labels() -> None:
    one = am_alert() | {"fingerprint": None}
    again = translate_notification(json.dumps(am_notification(one)).encode()).commands[0]
    first = translate_notification(json.dumps(am_notification(one)).encode()).commands[0]
    other = translate_notification(json.dumps(am_notification(am_alert(instance="x") | {"fingerprint": ""})).encode())
    assert first.alert_key == again.alert_key != other.commands[0].alert_key


def test_times_read_as_the_senders_write_them() -> None:
    assert sender_time("0001-01-01T00:00:00Z", field="endsAt") is None
    assert sender_time(None, field="endsAt") is None
    assert sender_time("2026-11-22T06:09:47.65656861Z", field="t") == datetime(
        2026, 11, 22, 6, 9, 47, 656568, tzinfo=UTC
    )
    assert sender_time("2026-11-22T07:09:47+01:00", field="t") == datetime(2026, 11, 22, 6, 9, 47, tzinfo=UTC)
    seconds = datetime(2015, 1, 5, 10, 3, 11, tzinfo=UTC)
    assert sender_time(1420452191, field="t") == seconds
    assert sender_time(1420452191104, field="t") == seconds.replace(microsecond=104000)
    assert sender_time(1420452191104123, field="t") == seconds.replace(microsecond=104123)
    assert sender_time(1420452191104123456, field="t") == seconds.replace(microsecond=104123)


def test_a_bad_time_is_named_by_its_own_field_each_time_it_is_read() -> None:
    # Parsed times are cached by their text; the problem must still name the field being read.
    for field in ("startsAt", "endsAt", "startsAt"):
        with pytest.raises(Unreadable) as caught:
            sender_time("2026-11-22T05:59:30", field=field)
        assert str(caught.value) == f"{field} '2026-11-22T05:59:30' carries no UTC offset"
    with pytest.raises(Unreadable) as caught:
        sender_time("{field} at {0}", field="endsAt")
    assert str(caught.value) == "endsAt '{field} at {0}' is not an RFC 3339 time"

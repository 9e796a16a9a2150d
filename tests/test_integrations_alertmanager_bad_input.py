"""Bad input at /integrations/alertmanager: a clear answer each time, never a 500 or a 4xx Alertmanager would
resend forever, and nothing half-stored."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from alerting import AM_TOKEN, am_alert, am_notification, am_post, counts, db, timeline_texts
from flask import Flask
from sqlalchemy import select

from incidents.alerts.models import Delivery, DeliveryOutcome
from incidents.models import Incident, TimelineEntry


@pytest.fixture
def am_app(app: Flask) -> Flask:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    return app


def kept_undecipherable(app: Flask, answer: Any, problem: str) -> None:
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["status"] == "undecipherable"
    assert problem in answer.get_json()["message"]
    assert counts(app) == {"deliveries": 1, "incidents": 0, "entries": 0, "occurrences": 0}
    with db(app) as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.outcome is DeliveryOutcome.UNDECIPHERABLE
        assert problem in delivery.problem


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"version": "4", "alerts": [{"status": "fir', "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"version": "4"}', "no alerts list"),
        (b'{"alerts": [42]}', "alert 1: an alert must be an object"),
        (b"", "not JSON"),
    ],
)
def test_unreadable_bodies_are_kept_and_answered_2xx(am_app: Flask, client: Any, body: bytes, problem: str) -> None:
    kept_undecipherable(am_app, am_post(client, body), problem)


def test_one_bad_alert_keeps_the_whole_group_unapplied(am_app: Flask, client: Any) -> None:
    bad = am_alert(fingerprint="ffff000000000001") | {"status": "smouldering"}
    answer = am_post(client, am_notification(am_alert(), bad))
    kept_undecipherable(am_app, answer, "alert 2: status 'smouldering' is neither firing nor resolved")


@pytest.mark.parametrize("starts", ["yesterday", "2026-11-22T05:59:30", True, {"t": 1}])
def test_unreadable_times_are_kept_and_named(am_app: Flask, client: Any, starts: Any) -> None:
    kept_undecipherable(am_app, am_post(client, am_notification(am_alert() | {"startsAt": starts})), "startsAt")


def test_alerts_with_no_labels_are_recorded_without_an_incident(am_app: Flask, client: Any) -> None:
    bare = {"status": "firing", "startsAt": "2026-11-22T05:59:30Z", "endsAt": "0001-01-01T00:00:00Z"}
    answer = am_post(client, am_notification(bare, bare | {"labels": None, "annotations": None}))
    assert answer.status_code == 200 and answer.get_json()["status"] == "applied"
    assert counts(am_app)["incidents"] == 0
    assert counts(am_app)["occurrences"] == 1  # the same empty label set: one alert


def test_nanosecond_epoch_and_year_one_times(am_app: Flask, client: Any) -> None:
    nanos = am_alert(starts="2026-11-22T05:59:30.118123456Z")
    epoch = am_alert(fingerprint="eeee000000000001", instance="b") | {"startsAt": 1732255170118123456}
    assert am_post(client, am_notification(nanos, epoch)).status_code == 200
    with db(am_app) as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.started_at == datetime(2026, 11, 22, 5, 59, 30, 118123, tzinfo=UTC)
        firing = session.scalars(select(TimelineEntry.occurred_at).where(TimelineEntry.kind == "alert")).all()
        assert datetime(2024, 11, 22, 5, 59, 30, 118123, tzinfo=UTC) in firing
    year_one = am_alert(fingerprint="cccc000000000001", starts="0001-01-01T00:00:00Z", instance="c")
    before = datetime.now(UTC)
    assert am_post(client, am_notification(year_one)).status_code == 200
    with db(am_app) as session:
        entry = session.scalars(
            select(TimelineEntry).where(TimelineEntry.external_id.like("cccc%"), TimelineEntry.kind == "alert")
        ).one()
        assert entry.occurred_at >= before.replace(microsecond=0)


def test_unicode_in_every_field_is_kept_and_readable(am_app: Flask, client: Any) -> None:
    weird = am_alert(
        "Fehlerquote↑ 🔥",
        service="kassé-服务",
        summary="5xx > 5 % — «ça brûle» \u0000 \ud800 end",
        fingerprint="ü-👍",
        instance="ñ:8080",
        runbook="https://runbooks.example.com/ü/🔥",
    )
    weird["labels"]["équipe"] = "paiements ✓"
    answer = am_post(client, am_notification(weird, group_key='{}:{alertname="Fehlerquote↑ 🔥"}'))
    assert answer.status_code == 200, answer.get_json()
    with db(am_app) as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.title.startswith("Fehlerquote↑ 🔥 for kassé-服务")
        assert [label.value for label in incident.labels] == ["kassé-服务"]
    texts = timeline_texts(am_app, incident.id)
    assert any(
        t.startswith("Alertmanager: Fehlerquote↑ 🔥 firing for kassé-服务 (5xx > 5 % — «ça brûle»") for t in texts
    )
    assert all("\x00" not in t for t in texts)


def test_oversized_fields_are_cut_not_refused(am_app: Flask, client: Any) -> None:
    huge = am_alert("A" * 5000, service="s" * 500, summary="y" * 60_000, fingerprint="f" * 1000)
    assert am_post(client, am_notification(huge, group_key="g" * 1000)).status_code == 200
    assert counts(am_app)["incidents"] == 1
    assert am_post(client, am_notification(huge, group_key="g" * 1000) | {"receiver": "x"}).status_code == 200
    assert counts(am_app)["occurrences"] == 1


def test_a_body_that_is_not_json_but_says_it_is_stores_its_raw_bytes(am_app: Flask, client: Any) -> None:
    body = json.dumps(am_notification(am_alert())).encode()[:-7]
    am_post(client, body)
    with db(am_app) as session:
        assert session.scalars(select(Delivery.body)).one() == body


def test_a_chunked_body_over_the_limit_is_refused_whole_not_cut_short(am_app: Flask, client: Any) -> None:
    am_app.config["MAX_CONTENT_LENGTH"] = 3000
    headers = {
        "Authorization": f"Bearer {AM_TOKEN}",
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    big = json.dumps(am_notification(*[am_alert(fingerprint=f"{n:016x}") for n in range(10)])).encode()
    assert len(big) > 3000
    answer = client.post("/integrations/alertmanager", input_stream=io.BytesIO(big), headers=headers)
    assert answer.status_code == 413
    assert counts(am_app)["deliveries"] == 0
    # The same way, under the limit, is read whole and applied, even when the server hands the body
    # over a little at a time (as a chunked input does, a chunk a read).
    small = json.dumps(am_notification(am_alert())).encode()
    answer = client.post("/integrations/alertmanager", input_stream=Trickle(small), headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "applied", answer.get_json()
    assert client.post("/integrations/alertmanager", input_stream=Trickle(big), headers=headers).status_code == 413


class Trickle(io.RawIOBase):
    """A body that gives at most 100 bytes a read."""

    def __init__(self, data: bytes) -> None:
        self.left = data

    def readable(self) -> bool:
        return True

    def tell(self) -> int:  # the test client asks where the stream starts
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, buffer: Any) -> int:
        piece, self.left = self.left[:100], self.left[100:]
        buffer[: len(piece)] = piece
        return len(piece)

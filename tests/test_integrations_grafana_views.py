"""POST/PUT /integrations/grafana: HMAC signature when configured (with a fresh timestamp), else a token."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from alerting import am_alert, am_notification, counts, db, post_json, timeline_texts
from flask import Flask
from sqlalchemy import select

from incidents.models import Incident, Source, TimelineEntry

SECRET = "grafana-hmac-secret"


def grafana_body() -> bytes:
    payload = am_notification(
        am_alert(runbook=None)
        | {
            "dashboardURL": "https://grafana.example.com/d/abc",
            "panelURL": "https://grafana.example.com/d/abc?viewPanel=2",
            "silenceURL": "https://grafana.example.com/alerting/silence/new",
            "values": {"A": 0.07},
            "valueString": "A=0.07",
        }
    )
    payload.update(
        {"version": "1", "orgId": 1, "state": "alerting", "title": "[FIRING:1] HighErrorRate", "message": "m"}
    )
    return json.dumps(payload).encode()


def signed(body: bytes, *, stamp: str | None = None, secret: str = SECRET) -> dict[str, str]:
    message = f"{stamp}:".encode() + body if stamp else body
    headers = {"X-Grafana-Alerting-Signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}
    if stamp:
        headers["X-Grafana-Alerting-Timestamp"] = stamp
    return headers


def test_a_token_when_no_hmac_secret_is_configured(app: Flask, client: Any) -> None:
    app.config["GRAFANA_TOKEN"] = "gf-token"
    assert post_json(client, "/integrations/grafana", grafana_body()).status_code == 401
    answer = client.put("/integrations/grafana", data=grafana_body(), headers={"Authorization": "Bearer gf-token"})
    assert answer.status_code == 200, answer.get_json()
    with db(app) as session:
        incident = session.scalars(select(Incident)).one()
        links = set(session.scalars(select(TimelineEntry.evidence_url).where(TimelineEntry.source == Source.GRAFANA)))
    assert "Grafana: HighErrorRate firing for checkout (5xx ratio above 5%)" in timeline_texts(app, incident.id)
    assert {"https://grafana.example.com/d/abc", "https://grafana.example.com/d/abc?viewPanel=2"} <= links


@pytest.mark.parametrize("with_stamp", [False, True])
def test_a_valid_hmac_signature_is_accepted(app: Flask, client: Any, with_stamp: bool) -> None:
    app.config["GRAFANA_HMAC_SECRET"] = SECRET
    body = grafana_body()
    headers = signed(body, stamp=str(int(time.time())) if with_stamp else None)
    assert post_json(client, "/integrations/grafana", body, headers).status_code == 200
    assert counts(app)["incidents"] == 1


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("missing", 401),
        ("stale", 401),
        ("future", 401),
        ("garbled stamp", 400),
        ("wrong secret", 403),
        ("flipped byte", 403),
    ],
)
def test_bad_signatures_are_refused_and_store_nothing(app: Flask, client: Any, case: str, status: int) -> None:
    app.config["GRAFANA_HMAC_SECRET"] = SECRET
    app.config["GRAFANA_TOKEN"] = "gf-token"  # a token is no way around a configured signature
    body = grafana_body()
    now = int(time.time())
    headers = {
        "missing": {"Authorization": "Bearer gf-token"},
        "stale": signed(body, stamp=str(now - 301)),
        "future": signed(body, stamp=str(now + 301)),
        "garbled stamp": signed(body, stamp="12ab"),
        "wrong secret": signed(body, secret="other"),
        "flipped byte": signed(body),
    }[case]
    if case == "flipped byte":
        body = body.replace(b"checkout", b"checkouT", 1)
    assert post_json(client, "/integrations/grafana", body, headers).status_code == status
    assert counts(app)["deliveries"] == 0

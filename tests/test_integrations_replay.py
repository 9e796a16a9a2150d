"""Kept deliveries: the admin page that lists the undecipherable ones, and `flask integrations replay`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alerting import AM_TOKEN, am_alert, am_notification, am_post, counts, db
from conftest import csrf_of, make_user, sign_in
from flask import Flask
from sqlalchemy import select

from incidents.alerts.models import Delivery, DeliveryOutcome
from incidents.models import Role, Source


def keep_as_an_older_version_did(app: Flask, body: bytes, problem: str = "not understood by Kintsugi 0.0") -> int:
    """A delivery an earlier version stored but could not read (the reason we replay after upgrading)."""
    with db(app) as session:
        delivery = Delivery(
            source=Source.ALERTMANAGER,
            delivery_key=f"old:{len(body)}:{hash(body)}",
            headers={},
            body=body,
            outcome=DeliveryOutcome.UNDECIPHERABLE,
            problem=problem,
        )
        session.add(delivery)
        session.commit()
        return delivery.id


@pytest.fixture
def am_app(app: Flask) -> Flask:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    return app


def test_replay_applies_what_is_now_understood_once(am_app: Flask) -> None:
    kept = keep_as_an_older_version_did(am_app, json.dumps(am_notification(am_alert())).encode())
    broken = keep_as_an_older_version_did(am_app, b'{"alerts": [{"status": "fir')
    runner = am_app.test_cli_runner()
    result = runner.invoke(args=["integrations", "replay"])
    assert result.exit_code == 0, result.output
    assert f"Delivery {kept} (alertmanager): applied" in result.output
    assert f"Delivery {broken} (alertmanager): undecipherable: the body is not JSON" in result.output
    after_first = counts(am_app)
    assert after_first["incidents"] == 1 and after_first["occurrences"] == 1
    again = runner.invoke(args=["integrations", "replay", "--id", str(kept)])
    assert again.exit_code == 0 and f"Delivery {kept} (alertmanager): applied" in again.output
    assert counts(am_app) == after_first
    with db(am_app) as session:
        outcomes = {row[0]: row[1] for row in session.execute(select(Delivery.id, Delivery.outcome))}
    assert outcomes == {kept: DeliveryOutcome.APPLIED, broken: DeliveryOutcome.UNDECIPHERABLE}


def test_replay_says_when_there_is_nothing_to_do(am_app: Flask) -> None:
    am_post(am_app.test_client(), am_notification(am_alert()))
    result = am_app.test_cli_runner().invoke(args=["integrations", "replay"])
    assert result.output.strip() == "No delivery to replay."


def test_the_admin_page_lists_what_was_not_understood_and_replays_it(am_app: Flask, client: Any) -> None:
    am_post(client, b'{"version": "4", "alerts": "not a list"}')
    kept = keep_as_an_older_version_did(
        am_app, json.dumps(am_notification(am_alert(summary="Ünïcode ✓")), ensure_ascii=False).encode()
    )
    assert client.get("/admin/deliveries").status_code == 302  # to the sign-in form
    make_user(am_app, "viewer@example.com", Role.VIEWER)
    make_user(am_app, "ada@example.com", Role.ADMIN)
    sign_in(client, "viewer@example.com")
    assert client.get("/admin/deliveries").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").get_data(as_text=True))})
    sign_in(client, "ada@example.com")
    page = client.get("/admin/deliveries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "no alerts list: is this an Alertmanager webhook notification?" in html
    assert "not understood by Kintsugi 0.0" in html
    assert "Ünïcode ✓" in html
    answer = client.post(f"/admin/deliveries/{kept}/replay", data={"csrf_token": csrf_of(html)}, follow_redirects=True)
    assert answer.status_code == 200
    assert f"Delivery {kept} replayed: applied." in answer.get_data(as_text=True)
    assert "not understood by Kintsugi 0.0" not in answer.get_data(as_text=True)
    assert counts(am_app)["incidents"] == 1

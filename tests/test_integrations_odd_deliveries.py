"""A sender's odd values: a delivery is always kept and answered 2xx, never a 500 that it would re-send forever.

NUL characters and lone surrogates (which PostgreSQL cannot store as text) are dropped or replaced and the
delivery applied; NaN and Infinity (which are not JSON) keep it as not understood. Every sender, both databases.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from alerting import (
    AM_TOKEN,
    OG_TOKEN,
    PD_SECRET,
    am_alert,
    am_notification,
    am_post,
    counts,
    db,
    og_action,
    og_post,
    pd_event,
    pd_post,
    post_json,
    timeline_texts,
)
from conftest import make_user, sign_in
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from incidents.alerts.models import Delivery, DeliveryOutcome
from incidents.alerts.service import _not_applicable
from incidents.errors import InvalidInput
from incidents.models import Incident, Role

NUL = "\u0000"
GRAFANA_SECRET = "grafana-hmac-secret"


def alertmanager_payload(odd: str) -> dict[str, Any]:
    alert = am_alert(name=f"High{odd}ErrorRate", service=f"check{odd}out", summary=f"5xx{odd} ratio above 5%")
    alert["labels"][f"te{odd}am"] = "payments"
    alert["fingerprint"] = f"beb69e79{odd}2e2dfd2e"
    return am_notification(alert, group_key=f'{{}}:{{alertname="High{odd}ErrorRate"}}')


def pagerduty_payload(odd: str) -> dict[str, Any]:
    event = pd_event(event_id=f"01KB4Q7Z{odd}V3M9T6X2R8N5C1D0EF", incident_id=f"Q1KB{odd}2INC0042")
    data = event["event"]["data"]
    data["title"] = f"[FIRING:2] High{odd}ErrorRate checkout"
    data["service"]["summary"] = f"Check{odd}out API"
    data["incident_key"] = f"beb69e79{odd}2e2dfd2e"
    return event


def opsgenie_payload(odd: str) -> dict[str, Any]:
    return og_action(
        alert_id=f"7c1d9e52{odd}3b8a", message=f"High{odd}ErrorRate on checkout", entity=f"check{odd}out-api"
    ) | {"alias": f"High{odd}ErrorRate/checkout"}


def grafana_post(client: Any, payload: Any) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return post_json(client, "/integrations/grafana", body, {"Authorization": "Bearer gf-token"})


def pagerduty_post(client: Any, payload: Any) -> Any:
    # The same X-Webhook-Id each time: a re-sent delivery, as PagerDuty re-sends one.
    return pd_post(client, payload, webhook_id="f6a2b0c4-odd")


# name: (setting, value, post, a payload with the odd text in its names, keys and ids, the title it should get)
SENDERS: dict[str, tuple[str, str, Callable[..., Any], Callable[[str], dict[str, Any]], str]] = {
    "alertmanager": ("ALERTMANAGER_TOKEN", AM_TOKEN, am_post, alertmanager_payload, "HighErrorRate for checkout"),
    "grafana": ("GRAFANA_TOKEN", "gf-token", grafana_post, alertmanager_payload, "HighErrorRate for checkout"),
    "pagerduty": ("PAGERDUTY_WEBHOOK_SECRETS", PD_SECRET, pagerduty_post, pagerduty_payload, "HighErrorRate checkout"),
    "opsgenie": ("OPSGENIE_TOKEN", OG_TOKEN, og_post, opsgenie_payload, "HighErrorRate on checkout"),
}


def configured(app: Flask, sender: str) -> Callable[..., Any]:
    setting, value, post, *_ = SENDERS[sender]
    app.config[setting] = value
    return post


def stored_bodies(app: Flask) -> list[tuple[bytes, DeliveryOutcome, str]]:
    with db(app) as session:
        return [(d.body, d.outcome, d.problem) for d in session.scalars(select(Delivery).order_by(Delivery.id))]


@pytest.mark.parametrize("sender", list(SENDERS))
def test_nul_characters_are_dropped_and_the_delivery_applied_once(app: Flask, client: Any, sender: str) -> None:
    post = configured(app, sender)
    body = json.dumps(SENDERS[sender][3](NUL)).encode()
    assert b"\\u0000" in body
    answer = post(client, body)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "applied"
    with db(app) as session:
        incident = session.scalars(select(Incident)).one()
        assert SENDERS[sender][4] in incident.title
        assert NUL not in incident.title
    texts = timeline_texts(app, incident.id)
    assert texts and not any(NUL in t for t in texts)
    # Kept byte for byte, NUL escapes and all.
    assert stored_bodies(app) == [(body, DeliveryOutcome.APPLIED, "")]
    # A re-send changes nothing.
    before = counts(app)
    assert post(client, body).get_json()["status"] == "duplicate"
    assert counts(app) == before


@pytest.mark.parametrize("sender", list(SENDERS))
def test_lone_surrogates_are_replaced_and_the_delivery_applied(app: Flask, client: Any, sender: str) -> None:
    post = configured(app, sender)
    # json.dumps writes a lone surrogate as the escape \ud800, as a careless sender might.
    body = json.dumps(SENDERS[sender][3]("\ud800")).encode()
    answer = post(client, body)
    assert answer.status_code == 200, answer.get_json()
    with db(app) as session:
        title = session.scalars(select(Incident.title)).one()
    assert "?" in title and "\ud800" not in title
    assert stored_bodies(app)[0][0] == body


def with_constant(payload: dict[str, Any], constant: str) -> bytes:
    """The payload with a number that Python's json writes and reads, but JSON does not have."""
    payload["odd"] = 12345.678
    return json.dumps(payload).replace("12345.678", constant).encode()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("sender", list(SENDERS))
def test_nan_and_infinity_keep_the_delivery_as_not_understood(
    app: Flask, client: Any, sender: str, constant: str
) -> None:
    post = configured(app, sender)
    body = with_constant(SENDERS[sender][3](""), constant)
    answer = post(client, body)
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["status"] == "undecipherable"
    assert f"{constant} is not a JSON number" in answer.get_json()["message"]
    assert counts(app) == {"deliveries": 1, "incidents": 0, "entries": 0, "occurrences": 0}
    [(kept, outcome, problem)] = stored_bodies(app)
    assert (kept, outcome) == (body, DeliveryOutcome.UNDECIPHERABLE)
    assert f"{constant} is not a JSON number" in problem
    assert post(client, body).get_json()["status"] == "duplicate"
    assert counts(app)["deliveries"] == 1


@pytest.mark.parametrize("where", ["startsAt", "endsAt"])
def test_a_nan_time_is_not_understood_rather_than_a_500(app: Flask, client: Any, where: str) -> None:
    # NaN compared false with every size of epoch number, and the translation failed on an assertion.
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    alert = am_alert(status="resolved") | {where: 12345.678}
    body = json.dumps(am_notification(alert)).replace("12345.678", "NaN").encode()
    answer = am_post(client, body)
    assert answer.status_code == 202 and "NaN is not a JSON number" in answer.get_json()["message"]


def test_the_deliveries_page_shows_a_nan_delivery_as_not_understood(app: Flask, client: Any) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    am_post(client, with_constant(am_notification(am_alert()), "NaN"))
    make_user(app, "ada@example.com", role=Role.ADMIN)
    browser = app.test_client()
    sign_in(browser, "ada@example.com")
    page = browser.get("/admin/deliveries")
    assert page.status_code == 200
    assert "the body is not JSON (NaN is not a JSON number)" in page.get_data(as_text=True)


def signed(body: bytes, stamp: str) -> dict[str, str]:
    message = stamp.encode() + b":" + body
    return {
        "X-Grafana-Alerting-Signature": hmac.new(GRAFANA_SECRET.encode(), message, hashlib.sha256).hexdigest(),
        "X-Grafana-Alerting-Timestamp": stamp,
    }


ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


@pytest.mark.parametrize(
    "stamp",
    [
        pytest.param(lambda: str(int(time.time())).translate(ARABIC_INDIC), id="arabic-indic digits of now"),
        pytest.param(lambda: "\u00b2", id="superscript two"),
        pytest.param(lambda: str(int(time.time())) + "\u00b9", id="now and a superscript one"),
        pytest.param(lambda: "9" * 5000, id="5000 digits"),
        pytest.param(lambda: "-" + str(int(time.time())), id="a sign"),
    ],
)
def test_a_grafana_timestamp_not_in_ascii_digits_is_400_and_stores_nothing(
    app: Flask, client: Any, stamp: Callable[[], str]
) -> None:
    # Signed correctly with the secret: only the header's digits are wrong. int() reads Arabic-Indic
    # digits, so they were accepted; "²" passes str.isdigit() but not int(), a 500.
    app.config["GRAFANA_HMAC_SECRET"] = GRAFANA_SECRET
    body = json.dumps(am_notification(am_alert())).encode()
    answer = post_json(client, "/integrations/grafana", body, signed(body, stamp()))
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "X-Grafana-Alerting-Timestamp" in answer.get_json()["error"]["message"]
    assert counts(app)["deliveries"] == 0
    assert post_json(client, "/integrations/grafana", body, signed(body, str(int(time.time())))).status_code == 200


def test_what_keeps_a_delivery_and_what_asks_the_sender_to_retry() -> None:
    # A value the database or Python cannot hold keeps the delivery as not understood; the database away or
    # a uniqueness race is not about the delivery, so it is raised (503, or another attempt).
    refused = DataError("INSERT ...", {}, Exception("integer out of range"))
    assert _not_applicable(refused) == "could not be applied (DataError: integer out of range)"
    unbound = StatementError("date value out of range", "INSERT ...", {}, OverflowError("date value out of range"))
    assert _not_applicable(unbound) == "could not be applied (OverflowError: date value out of range)"
    assert _not_applicable(InvalidInput("title must not be empty", field="title")) == "title must not be empty"
    assert _not_applicable(OperationalError("SELECT 1", {}, Exception("connection refused"))) is None
    assert _not_applicable(IntegrityError("INSERT ...", {}, Exception("duplicate key"))) is None
    assert _not_applicable(KeyError("x")) is None

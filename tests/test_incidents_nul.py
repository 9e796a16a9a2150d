"""A NUL character from a person is a 400 naming the field, never a 500 (PostgreSQL refuses to store
one); from a sender it is dropped and the delivery kept."""

from __future__ import annotations

from typing import Any

import pytest
from alerting import AM_TOKEN, am_alert, am_notification, am_post, counts, timeline_texts
from conftest import Caller, csrf_of, declare, make_user, sign_in
from flask import Flask


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Checkout\u0000errors", "severity": "SEV2"}, "title"),
        ({"title": "Checkout errors", "severity": "SEV2", "summary": "a\u0000b"}, "summary"),
        ({"title": "Checkout errors", "severity": "SEV2", "services": ["check\u0000out"]}, "services"),
    ],
)
def test_the_api_refuses_a_nul_character_with_400_and_stores_nothing(
    responder: Caller, body: dict[str, Any], field: str
) -> None:
    answer = responder.post("/api/incidents", body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"]["field"] == field
    assert "NUL" in answer.get_json()["error"]["message"]
    assert responder.get("/api/incidents").get_json()["incidents"] == []


def test_a_timeline_entry_and_a_query_with_a_nul_character_are_400(responder: Caller) -> None:
    incident = declare(responder)
    answer = responder.post(f"/api/incidents/{incident['id']}/timeline", {"text": "rolled\u0000back"})
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "text"
    assert responder.get("/api/incidents?q=check%00out").status_code == 400


def test_a_page_form_with_a_nul_character_is_400(app: Flask) -> None:
    make_user(app, "kim@example.com")
    browser = app.test_client()
    sign_in(browser, "kim@example.com")
    page = browser.get("/incidents/new").get_data(as_text=True)
    answer = browser.post(
        "/incidents/new",
        data={"csrf_token": csrf_of(page), "title": "Checkout\x00errors", "severity": "SEV2", "visibility": "open"},
    )
    assert answer.status_code == 400
    assert browser.get("/incidents?q=a%00b").status_code == 400


def test_a_senders_nul_characters_are_dropped_and_the_delivery_kept(app: Flask, client: Any) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    answer = am_post(client, am_notification(am_alert(summary="5xx\u0000 ratio above 5%")))
    assert answer.status_code == 200 and answer.get_json()["status"] == "applied", answer.get_json()
    assert counts(app)["deliveries"] == 1
    texts = timeline_texts(app, answer.get_json()["incidents"][0])
    assert any("5xx ratio above 5%" in t for t in texts), texts

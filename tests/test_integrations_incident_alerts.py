"""The incident page says at a glance which of its alerts still fire."""

from __future__ import annotations

import re
from typing import Any

from alerting import AM_TOKEN, am_alert, am_notification, am_post
from conftest import csrf_of, make_user, sign_in, words_of
from flask import Flask

from incidents.models import Role


def alerts_section(client: Any, incident_id: int) -> str:
    """The words of the page's Alerts section, or empty when it has none."""
    html = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    found = re.search(r'<section aria-labelledby="alerts-h" id="alerts">(.*?)</section>', html, re.S)
    return words_of(found.group(1)) if found else ""


def test_the_alerts_still_firing_are_listed_until_they_resolve(app: Flask, client: Any) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    first = am_alert(instance="checkout-1", fingerprint="f1", starts="2026-11-22T05:59:30Z")
    second = am_alert("LatencyHigh", instance="checkout-2", fingerprint="f2", starts="2026-11-22T06:01:00Z")
    am_post(client, am_notification(first, second))
    make_user(app, "rui@example.com", Role.RESPONDER, zone="Europe/Lisbon")
    sign_in(client, "rui@example.com")
    assert alerts_section(client, 1) == (
        "Alerts (2 firing, 0 resolved) "
        "Alertmanager: HighErrorRate for checkout, firing since Sun 2026-11-22 05:59 WET "
        "Alertmanager: LatencyHigh for checkout, firing since Sun 2026-11-22 06:01 WET"
    )
    am_post(client, am_notification(first | {"status": "resolved", "endsAt": "2026-11-22T06:20:00Z"}, second))
    assert alerts_section(client, 1) == (
        "Alerts (1 firing, 1 resolved) Alertmanager: LatencyHigh for checkout, firing since Sun 2026-11-22 06:01 WET"
    )
    am_post(
        client,
        am_notification(*(a | {"status": "resolved", "endsAt": "2026-11-22T06:30:00Z"} for a in (first, second))),
    )
    assert alerts_section(client, 1) == "Alerts (0 firing, 2 resolved) Every alert of this incident has resolved."


def test_an_incident_declared_by_a_person_has_no_alerts_section(app: Flask, client: Any) -> None:
    make_user(app, "rui@example.com", Role.RESPONDER)
    sign_in(client, "rui@example.com")
    page = client.get("/incidents/new").get_data(as_text=True)
    answer = client.post(
        "/incidents/new", data={"csrf_token": csrf_of(page), "title": "Search is stale", "severity": "SEV3"}
    )
    assert answer.status_code == 302
    assert client.get("/incidents/1").status_code == 200
    assert alerts_section(client, 1) == ""


def test_a_large_group_lists_the_first_twenty_still_firing_and_counts_the_rest(app: Flask, client: Any) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    alerts = [
        am_alert(instance=f"checkout-{n}", fingerprint=f"f{n:02d}", starts=f"2026-11-22T05:{n:02d}:00Z")
        for n in range(22)
    ]
    am_post(client, am_notification(*alerts))
    make_user(app, "rui@example.com", Role.RESPONDER)
    sign_in(client, "rui@example.com")
    section = alerts_section(client, 1)
    assert section.startswith(
        "Alerts (22 firing, 0 resolved) Alertmanager: HighErrorRate for checkout, firing since Sun 2026-11-22 05:00 UTC"
    )
    assert section.count("firing since") == 20
    assert "05:19 UTC" in section and "05:20 UTC" not in section  # the longest firing first
    assert section.endswith("And 2 more still firing.")

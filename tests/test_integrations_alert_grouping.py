"""One notification of thousands of alerts adds one grouped entry to its incident's timeline, not
thousands, while every alert is still recorded; a small notification keeps one entry per alert."""

from __future__ import annotations

from typing import Any

from alerting import AM_TOKEN, am_alert, am_notification, am_post, counts, timeline_texts
from conftest import make_user, sign_in, words_of
from flask import Flask

from incidents.models import Role


def storm(size: int) -> dict[str, Any]:
    return am_notification(
        *(
            am_alert(instance=f"checkout-{n}", fingerprint=f"{n:016x}", runbook=f"https://runbooks.example.com/{n}")
            for n in range(size)
        )
    )


def test_five_thousand_alerts_make_one_grouped_entry_and_a_small_page(app: Flask, client: Any) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024  # 5,000 alerts are 2.6 MB of JSON
    notification = storm(5_000)
    answer = am_post(client, notification)
    assert answer.status_code == 200, answer.get_json()
    stored = counts(app)
    assert stored["occurrences"] == 5_000 and stored["incidents"] == 1
    texts = timeline_texts(app, 1)
    grouped = [t for t in texts if "alert events" in t]
    assert len(grouped) == 1 and len(texts) < 10, texts
    assert "**10,000 alert events** from Alertmanager" in grouped[0]  # each alert and its runbook link
    assert "… and 9,990 more" in grouped[0]
    make_user(app, "rui@example.com", Role.RESPONDER)
    sign_in(client, "rui@example.com")
    page = client.get("/incidents/1")
    assert page.status_code == 200 and len(page.get_data()) < 200_000
    assert "Alerts (5000 firing, 0 resolved)" in words_of(page.get_data(as_text=True))
    # The same notification again (Alertmanager re-sends every repeat_interval) adds nothing.
    assert am_post(client, notification).status_code == 200
    assert counts(app) | {"deliveries": 0} == stored | {"deliveries": 0}


def test_a_notification_of_a_few_alerts_keeps_an_entry_for_each(app: Flask, client: Any) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    answer = am_post(client, storm(5))
    assert answer.status_code == 200, answer.get_json()
    texts = timeline_texts(app, 1)
    assert not any("alert events" in t for t in texts)
    assert sum("5xx ratio above 5%" in t for t in texts) == 5

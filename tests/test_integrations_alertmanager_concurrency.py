"""Deliveries applied at the same time: one new problem declares one incident, each alert occurrence is stored once."""

from __future__ import annotations

import threading
from typing import Any

from alerting import AM_TOKEN, am_alert, am_notification, am_post, counts, db
from flask import Flask
from sqlalchemy import select

from incidents.models import Incident


def test_concurrent_notifications_of_a_new_group_declare_one_incident(app: Flask) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    # Eight different bodies (an HA pair and repeats would send such) about the same firing alerts.
    alerts = [am_alert(instance=f"i-{n}", fingerprint=f"{n:016x}") for n in range(5)]
    bodies = [am_notification(*alerts[: 1 + n % 5]) | {"receiver": f"peer-{n}"} for n in range(8)]
    start = threading.Barrier(len(bodies))
    answers: list[int] = []

    def deliver(body: dict[str, Any]) -> None:
        client = app.test_client()
        start.wait(timeout=10)
        answers.append(am_post(client, body).status_code)

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200] * len(bodies)
    assert counts(app)["occurrences"] == 5
    with db(app) as session:
        incidents = session.scalars(select(Incident)).all()
        assert len(incidents) == 1

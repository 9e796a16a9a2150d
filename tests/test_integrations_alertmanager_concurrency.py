"""Deliveries applied at the same time: one new problem declares one incident, each alert occurrence is stored once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from alerting import AM_TOKEN, am_alert, am_notification, am_post, counts, db
from conftest import turn_held_by_another_thread
from flask import Flask
from sqlalchemy import select

from incidents.database import WRITER_TURN
from incidents.models import EntryKind, Incident, TimelineEntry
from incidents.writer_turns import WriterTurns


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


# A worker process of its own (as gunicorn runs them): the app on the same database, posting its
# bodies from four threads once told to go, and printing the status of each answer.
WORKER = """
import json, sys, threading
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from alerting import am_post
from app import create_app
app = create_app({{"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": {url!r}, "ALERTMANAGER_TOKEN": {token!r}}})
bodies = json.loads(sys.stdin.readline())
sys.stdin.readline()
statuses = []
def deliver(part):
    client = app.test_client()
    statuses.extend(am_post(client, body).status_code for body in part)
threads = [threading.Thread(target=deliver, args=(bodies[n::4],)) for n in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(statuses))
"""


def test_worker_processes_on_one_database_store_each_occurrence_once(app: Flask) -> None:
    # What every process stores, not how they wait: without turns SQLite's own lock would keep
    # this right too, only slower (the turns themselves are tested in test_incidents_database).
    root = Path(__file__).resolve().parent.parent
    source = WORKER.format(root=str(root), tests=str(root / "tests"), url=app.config["DATABASE_URL"], token=AM_TOKEN)
    alerts = [am_alert(instance=f"i-{n}", fingerprint=f"{n:016x}") for n in range(5)]
    # Two peers and their repeats; then every alert resolves, each told by both processes.
    bodies = [am_notification(*alerts[: 1 + n % 5]) | {"receiver": f"peer-{n}"} for n in range(16)]
    resolved = [a | {"status": "resolved", "endsAt": "2026-11-22T06:20:00Z"} for a in alerts]
    bodies += [am_notification(alert) | {"receiver": f"resolver-{n}"} for n, alert in enumerate(resolved)]
    workers = [
        subprocess.Popen([sys.executable, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(bodies) + "\n")
        worker.stdin.flush()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    answers = []
    try:
        for worker in workers:
            out, _ = worker.communicate(timeout=120)
            assert worker.returncode == 0
            answers.append(json.loads(out))
    finally:
        for worker in workers:
            worker.kill()
            worker.communicate()
    # Each body was sent by both processes: one stored it, the other found it a duplicate.
    assert answers[0] + answers[1] == [200] * (2 * len(bodies))
    stored = counts(app)
    assert stored["deliveries"] == len(bodies)
    assert stored["occurrences"] == 5
    with db(app) as session:
        incidents = session.scalars(select(Incident)).all()
        assert len(incidents) == 1
        firing = session.scalars(select(TimelineEntry.external_id).where(TimelineEntry.kind == EntryKind.ALERT)).all()
        assert len(firing) == len(set(firing)) == 10  # each alert fired once and resolved once


def test_a_delivery_that_waits_too_long_for_its_turn_is_answered_503_and_nothing_is_stored(app: Flask) -> None:
    app.config["ALERTMANAGER_TOKEN"] = AM_TOKEN
    with db(app) as session:
        turns: WriterTurns | None = session.info.get(WRITER_TURN)
    if turns is None:
        # PostgreSQL's writers need no turns (row locks): there is nothing to wait for.
        assert app.config["DATABASE_URL"].startswith("postgresql")
        return
    turns.patience = 0.2
    with turn_held_by_another_thread(turns):
        answer = am_post(app.test_client(), am_notification(am_alert()))
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "busy"
    assert counts(app) == {"deliveries": 0, "incidents": 0, "entries": 0, "occurrences": 0}
    # Alertmanager retries; now that the turn is free, the same notification goes through.
    assert am_post(app.test_client(), am_notification(am_alert())).status_code == 200
    assert counts(app)["occurrences"] == 1

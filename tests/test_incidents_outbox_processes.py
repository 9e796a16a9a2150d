"""The outbox across processes: a kill loses no event, and concurrent `flask worker`s apply each row once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import outbox_app
import pytest
from flask import Flask
from outbox_app import calls, effects, event, pids
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from incidents.database import engine_of
from incidents.events import IncidentDeclared, record_event, subscribe, unsubscribe
from incidents.models import utcnow
from incidents.outbox import service
from incidents.outbox.models import APPLIED, PENDING, OutboxRow
from incidents.outbox.service import BatchOutcome, drain_batch

TESTS = Path(__file__).resolve().parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS)])}


@pytest.fixture
def tables(app: Flask) -> Iterator[Engine]:
    """The recording handlers' tables in the test's database."""
    found = engine_of(app)
    outbox_app.create_tables(found)
    yield found
    outbox_app.drop_tables(found)


@pytest.fixture
def engine(app: Flask, tables: Engine) -> Engine:
    """The test app with the recording handlers subscribed, and their tables."""
    outbox_app.subscribe_recorders(app)
    return tables


def python(code: str, url: str) -> subprocess.CompletedProcess[str]:
    """Run code in a new Python process (the database URL is its sys.argv[1])."""
    return subprocess.run(
        [sys.executable, "-c", code, url], cwd=TESTS, env=ENV, capture_output=True, text=True, timeout=60
    )


def states(session: Session) -> list[tuple[str, int]]:
    session.expire_all()
    found = [(row.state, row.attempts) for row in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    session.rollback()
    return found


def test_a_process_killed_after_its_commit_loses_no_event(app: Flask, engine: Engine, session: Session) -> None:
    killed = python(
        "import os, sys\n"
        "from outbox_app import build_app, event\n"
        "from incidents.database import get_session\n"
        "from incidents.events import record_event\n"
        "app = build_app(sys.argv[1], OUTBOX_WORKER='thread')\n"
        "with app.app_context():\n"
        "    session = get_session()\n"
        "    for key in (1, 2, 3):\n"
        "        record_event(session, event(key))\n"
        "    session.commit()\n"
        "    os._exit(9)\n",
        app.config["DATABASE_URL"],
    )
    assert killed.returncode == 9, killed.stderr
    assert states(session) == [(PENDING, 0)] * 6
    assert drain_batch(app, worker_id="survivor") == BatchOutcome(claimed=6, applied=6)
    assert calls(engine) == {(name, key): 1 for name in outbox_app.HANDLERS for key in (1, 2, 3)}
    assert states(session) == [(APPLIED, 1)] * 6


def test_a_worker_killed_mid_batch_loses_nothing_and_an_idempotent_effect_happens_once(
    app: Flask, engine: Engine, session: Session
) -> None:
    for key in range(1, 7):
        record_event(session, event(key))
    session.commit()
    # A worker claims all twelve rows, applies seven, and dies on the eighth ("test.once" for event 4)
    # before it can mark any.
    killed = python(
        "import sys, threading\n"
        "from outbox_app import build_app\n"
        "from incidents.outbox.worker import Worker\n"
        "app = build_app(sys.argv[1], OUTBOX_TEST_KILL_AT=4, OUTBOX_LEASE_SECONDS=30)\n"
        "Worker(app).run(threading.Event(), threading.Event(), stop_when_empty=True)\n",
        app.config["DATABASE_URL"],
    )
    assert killed.returncode == 9, killed.stderr
    assert states(session) == [(PENDING, 1)] * 12
    assert drain_batch(app, worker_id="survivor") == BatchOutcome()  # leased to the dead worker for 30 s
    after_lease = utcnow() + timedelta(seconds=31)
    assert drain_batch(app, worker_id="survivor", clock=lambda: after_lease) == BatchOutcome(claimed=12, applied=12)
    assert states(session) == [(APPLIED, 2)] * 12
    assert calls(engine) == {
        **{("test.record", key): 2 if key <= 4 else 1 for key in range(1, 7)},
        **{("test.once", key): 2 if key <= 3 else 1 for key in range(1, 7)},
    }
    assert effects(engine) == [("test.once", key) for key in range(1, 7)]


def wait_for_line(path: Path, text: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while text not in path.read_text():
        assert process.poll() is None, path.read_text()
        assert time.monotonic() < deadline, f"no {text!r} in {path}: {path.read_text()}"
        time.sleep(0.02)


def test_two_flask_workers_apply_each_row_exactly_once(
    app: Flask, tables: Engine, session: Session, tmp_path: Path
) -> None:
    """Two `flask worker` processes on one outbox: 2,000 rows, each applied once, and both workers take part."""
    unsubscribe(app, outbox_app.SEARCH_HANDLER)  # as worker_app does
    subscribe(app, IncidentDeclared, "test.record", outbox_app.recorder("test.record"))
    env = {**ENV, "KINTSUGI_DATABASE_URL": app.config["DATABASE_URL"]}
    command = [sys.executable, "-m", "flask", "--app", "outbox_app:worker_app", "worker"]
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(subprocess.Popen(command, cwd=TESTS, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + 60
        for log, worker in zip(logs, workers, strict=True):
            wait_for_line(log, "started", worker, deadline)
        # Both are polling; the rows arrive in one commit, as a storm's would.
        for key in range(2000):
            record_event(session, event(key))
        session.commit()
        while service.status(session).pending:
            session.rollback()
            assert time.monotonic() < deadline, service.status(session)
            assert all(worker.poll() is None for worker in workers), [log.read_text() for log in logs]
            time.sleep(0.05)
        session.rollback()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(timeout=30) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert all("stopped:" in log.read_text() for log in logs), [log.read_text() for log in logs]
    applied = calls(tables)
    assert len(applied) == 2000 and set(applied.values()) == {1}
    assert set(applied) == {("test.record", key) for key in range(2000)}
    assert len(pids(tables)) == 2, "one worker did everything"
    status = service.status(session)
    assert (status.pending, status.parked, status.applied) == (0, 0, 2000)

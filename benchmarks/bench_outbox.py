"""Benchmark of the outbox worker's drain rate, with a handler that does nothing, on SQLite and PostgreSQL.

It records N events (default 20,000) through record_event, committing every 500 as a pager
storm's deliveries would, with one no-op handler subscribed, so N outbox rows; then one worker
drains them (claim a batch under a lease, apply, mark) and the time is printed as events/s.
Target: at least 1,000 events/s on each backend.

    .venv/bin/python benchmarks/bench_outbox.py                 # both backends (PostgreSQL from
                                                                # KINTSUGI_BENCH_DATABASE_URL, default
                                                                # postgresql+psycopg://postgres@127.0.0.1:5432/test)
    .venv/bin/python benchmarks/bench_outbox.py --events 5000 --backend sqlite
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import postgres_databases

from app import create_app
from incidents.database import engine_of, get_session
from incidents.events import Event, IncidentDeclared, record_event, subscribe
from incidents.outbox.service import status
from incidents.outbox.worker import Worker
from incidents.tables import all_tables

TARGET = 1_000
COMMIT_EVERY = 500


def noop(_event: Event) -> None:
    """A handler that does nothing: what is left is the outbox's own cost."""


def run(backend: str, url: str, events: int) -> None:
    """Record the events, then time one worker draining them; print both rates."""
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    engine = engine_of(app)
    all_tables().create_all(engine)
    subscribe(app, IncidentDeclared, "bench.noop", noop)
    started = time.perf_counter()
    with app.app_context():
        session = get_session()
        for n in range(events):
            record_event(session, IncidentDeclared(incident_id=n + 1, actor_id=None, actor_name="bench", source="api"))
            if (n + 1) % COMMIT_EVERY == 0:
                session.commit()
        session.commit()
    recorded = time.perf_counter() - started
    print(f"{backend:10} recorded {events:,} events in {recorded:.2f} s ({events / recorded:,.0f} events/s)")
    worker = Worker(app)
    started = time.perf_counter()
    worker.run(threading.Event(), threading.Event(), stop_when_empty=True)
    drained = time.perf_counter() - started
    with app.app_context():
        left = status(get_session())
    assert worker.totals.applied == events and left.pending == 0 and left.applied == events, (worker.totals, left)
    rate = events / drained
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(
        f"{backend:10} one worker drained {events:,} events in {drained:.2f} s: {rate:,.0f} events/s "
        f"({verdict} the {TARGET:,}/s target)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.db", args.events)
    if args.backend in ("postgres", "both"):
        with postgres_databases() as (url,):
            run("postgres", url, args.events)


if __name__ == "__main__":
    main()

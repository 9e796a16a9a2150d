"""Benchmark of the incident core, in-process through the Flask test client.

At 10,000 incidents, on SQLite and on PostgreSQL, it times: declaring an incident, appending a
timeline entry, reading an incident, reading an incident's 50-entry timeline, and the first page
of the incident list. Prints p50 and p95 per request in milliseconds. Target: p95 under 20 ms.

Every change writes its events to the outbox, one row per subscribed handler, in the same
transaction. --subscribers N (default 1) subscribes N handlers that do nothing to every event
type, so that cost is in the figures; --subscribers 0 measures the change alone. No worker runs
during the benchmark: the rows wait, as they would for a worker that is busy.

    make bench                     # both backends (PostgreSQL from KINTSUGI_BENCH_DATABASE_URL,
                                   # default postgresql+psycopg://postgres@127.0.0.1:5432/test)
    .venv/bin/python benchmarks/bench_core.py --incidents 10000 --requests 1000 --backend sqlite
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import postgres_databases
from sqlalchemy import insert, text

from app import create_app
from incidents.accounts.service import create_api_token, create_user
from incidents.database import engine_of, get_session
from incidents.events import event_types, subscribe
from incidents.models import (
    EntryKind,
    Incident,
    IncidentLabel,
    IncidentRole,
    LabelKind,
    Role,
    RoleAssignment,
    Source,
    Status,
    TimelineEntry,
    Visibility,
    utcnow,
)
from incidents.tables import all_tables

SERVICES = ["checkout", "payments", "search", "orders", "identity", "billing", "kafka", "edge"]


def seed(app: Any, incidents: int) -> tuple[str, int]:
    """Bulk-write the incidents; returns a responder's token and an incident with 50 entries."""
    with app.app_context():
        session = get_session()
        user = create_user(session, email="bench@example.com", name="Bench", role=Role.RESPONDER)
        _, token = create_api_token(session, user_id=user.id)
        now = utcnow()
        rows = []
        for n in range(incidents):
            started = now - timedelta(minutes=30 * (incidents - n))
            resolved = n < incidents - 20
            rows.append(
                {
                    "title": f"Incident {n}: elevated errors on {SERVICES[n % len(SERVICES)]}",
                    "summary": "Seeded for the benchmark.",
                    "severity": f"SEV{1 + n % 5}",
                    "status": Status.CLOSED if resolved else Status.INVESTIGATING,
                    "visibility": Visibility.OPEN,
                    "started_at": started,
                    "detected_at": started + timedelta(minutes=5),
                    "acknowledged_at": started + timedelta(minutes=8),
                    "mitigated_at": started + timedelta(minutes=40) if resolved else None,
                    "resolved_at": started + timedelta(minutes=90) if resolved else None,
                    "declared_at": started + timedelta(minutes=6),
                    "declared_by_id": user.id,
                    "updated_at": started,
                }
            )
        session.execute(insert(Incident), rows)
        ids = list(session.scalars(text("SELECT id FROM incidents ORDER BY id")))
        session.execute(
            insert(IncidentLabel),
            [{"incident_id": i, "kind": LabelKind.SERVICE, "value": SERVICES[i % len(SERVICES)]} for i in ids],
        )
        session.execute(
            insert(RoleAssignment),
            [{"incident_id": i, "user_id": user.id, "role": IncidentRole.COMMANDER, "assigned_at": now} for i in ids],
        )
        target = ids[len(ids) // 2]
        session.execute(
            insert(TimelineEntry),
            [
                {
                    "incident_id": target,
                    "occurred_at": now - timedelta(minutes=60 - k),
                    "recorded_at": now,
                    "source": Source.API,
                    "kind": EntryKind.NOTE,
                    "actor_id": user.id,
                    "actor_name": "Bench",
                    "text": f"Entry {k}: checked the dashboards and **rolled** pods.",
                    "is_key_moment": k % 10 == 0,
                }
                for k in range(50)
            ],
        )
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # What autovacuum would do soon after a bulk load; without it the planner guesses blind.
            session.execute(text("ANALYZE"))
            session.commit()
    return token, target


def measure(label: str, count: int, call: Callable[[int], Any]) -> list[float]:
    """Time count calls in milliseconds, after a short warm-up."""
    for n in range(5):
        call(n)
    samples = []
    for n in range(count):
        start = time.perf_counter()
        call(n)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def measure_pair(
    count: int, first: Callable[[int], Any], second: Callable[[int], Any]
) -> tuple[list[float], list[float]]:
    """Time count calls of each, alternating, in milliseconds, after a short warm-up."""
    for n in range(5):
        first(n)
        second(n)
    samples: tuple[list[float], list[float]] = ([], [])
    for n in range(count):
        for call, into in ((first, samples[0]), (second, samples[1])):
            start = time.perf_counter()
            call(n)
            into.append((time.perf_counter() - start) * 1000)
    return samples


def p50_p95(samples: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile of samples."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def report(backend: str, label: str, samples: list[float]) -> None:
    p50, p95 = p50_p95(samples)
    verdict = "ok" if p95 < 20 else "OVER TARGET"
    print(f"{backend:10} {label:34} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   ({len(samples)} requests, {verdict})")


def report_pair(backend: str, label: str, with_rows: list[float], without: list[float]) -> None:
    """A write with its outbox rows and without, and what the rows add (target: at most 1 ms at p95)."""
    report(backend, label, with_rows)
    report(backend, "  the same, writing no outbox row", without)
    (p50, p95), (bare_p50, bare_p95) = p50_p95(with_rows), p50_p95(without)
    verdict = "ok" if p95 - bare_p95 <= 1 else "OVER TARGET"
    added = f"p50 {p50 - bare_p50:+6.2f} ms   p95 {p95 - bare_p95:+6.2f} ms"
    print(f"{backend:10} {'  the outbox adds':34} {added}   ({verdict})")


def run(backend: str, url: str, incidents: int, requests: int, subscribers: int) -> None:
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "OUTBOX_WORKER": "off"})
    for type_name in event_types():
        for n in range(subscribers):
            subscribe(app, type_name, f"bench.noop{n}", lambda _event: None)
    engine = engine_of(app)
    all_tables().create_all(engine)
    started = time.perf_counter()
    token, target = seed(app, incidents)
    print(
        f"{backend:10} seeded {incidents} incidents in {time.perf_counter() - started:.1f} s; "
        f"{subscribers} no-op subscriber(s) to every event type"
    )
    client = app.test_client()
    # The same database served by an app nobody subscribes to: its writes write no outbox row. Its
    # requests alternate with the others', so both see the same machine at the same moment.
    bare = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "OUTBOX_WORKER": "off"}).test_client()
    auth = {"Authorization": f"Bearer {token}"}

    def ok(response: Any, status: int = 200) -> None:
        assert response.status_code == status, response.get_data(as_text=True)

    def declare(n: int, through: Any = client) -> None:
        ok(
            through.post(
                "/api/incidents", json={"title": f"bench {n}", "severity": "SEV3", "services": ["edge"]}, headers=auth
            ),
            201,
        )

    append_to = f"/api/incidents/{incidents - 1}/timeline"

    def append(n: int, through: Any = client) -> None:
        ok(through.post(append_to, json={"text": f"note {n}", "kind": "note"}, headers=auth), 201)

    def read_incident(_n: int) -> None:
        ok(client.get(f"/api/incidents/{target}", headers=auth))

    def read_timeline(_n: int) -> None:
        response = client.get(f"/api/incidents/{target}/timeline", headers=auth)
        ok(response)
        assert len(response.get_json()["entries"]) == 50

    def list_page(_n: int) -> None:
        ok(client.get("/api/incidents?limit=50&service=checkout", headers=auth))

    report_pair(backend, "declare incident (POST)", *measure_pair(requests, declare, partial(declare, through=bare)))
    report_pair(backend, "append timeline entry (POST)", *measure_pair(requests, append, partial(append, through=bare)))
    report(backend, "read incident (GET)", measure("read", requests, read_incident))
    report(backend, "read 50-entry timeline (GET)", measure("timeline", requests, read_timeline))
    report(backend, "list page, service filter (GET)", measure("list", requests, list_page))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--subscribers", type=int, default=1)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.db", args.incidents, args.requests, args.subscribers)
    if args.backend in ("postgres", "both"):
        with postgres_databases() as (url,):
            run("postgres", url, args.incidents, args.requests, args.subscribers)


if __name__ == "__main__":
    main()

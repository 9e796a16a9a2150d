"""Benchmark of the responder's pages, in-process through the Flask test client, signed in by the web login.

It seeds 100,000 incidents (services, teams and tags with a long tail, a spread of severities and
statuses, some restricted) and one incident with 2,000 timeline entries (some corrected, a few
deleted, key moments among them, and ten of 50,000 characters of Markdown built to stall a parser),
signs a responder in through POST /login, and times GET requests: the incident page, the list
(unfiltered; by service; by status and severity; by text in the title, common and rare; by date
range; sorted by severity and by last update; 20 pages deep), the home page, and the CSV export of
a filtered list. Prints p50 and p95 per request in milliseconds. Target: p95 under 150 ms.

    .venv/bin/python benchmarks/bench_pages.py            # SQLite and PostgreSQL
    .venv/bin/python benchmarks/bench_pages.py --incidents 100000 --requests 50 --backend sqlite

PostgreSQL comes from KINTSUGI_BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); the run creates a database of its own beside
that one and drops it at the end.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask.testing import FlaskClient
from markdown_stress import stress_set
from scratch import postgres_databases
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app import create_app, prepare_collector
from incidents import rendering
from incidents.accounts.service import create_user
from incidents.database import engine_of, get_session
from incidents.models import (
    EntryKind,
    Incident,
    IncidentLabel,
    IncidentRole,
    LabelKind,
    RevisionChange,
    Role,
    RoleAssignment,
    Source,
    Status,
    TimelineEntry,
    TimelineEntryRevision,
    User,
    Visibility,
    utcnow,
)
from incidents.tables import all_tables

TARGET_MS = 150.0
PASSWORD = "bench password, not a real one"
EMAIL = "bench@example.com"
TIMELINE_ENTRIES = 2_000
# Entries of that timeline whose text is a 50,000-character pathological Markdown shape.
STRESS_ENTRIES = 10

SERVICES = [
    "checkout",
    "payments",
    "search",
    "orders",
    "identity",
    "billing",
    "kafka",
    "edge",
    "cdn",
    "dns",
    "api-gateway",
    "inventory",
    "shipping",
    "notifications",
    "email",
    "sms",
    "recommendations",
    "catalog",
    "pricing",
    "cart",
    "auth",
    "sessions",
    "postgres-main",
    "redis-cache",
    "elasticsearch",
    "object-storage",
    "ci",
    "deploy-pipeline",
    "k8s-control-plane",
    "ingress",
    "vpn",
    "ledger",
    "fraud",
    "reporting",
    "data-warehouse",
    "etl",
    "mobile-api",
    "web-frontend",
    "feature-flags",
    "observability",
]
TEAMS = [
    "platform",
    "payments",
    "storefront",
    "identity",
    "data",
    "sre",
    "mobile",
    "growth",
    "logistics",
    "security",
    "infra",
    "support-tools",
]
TAGS = [
    "deploy",
    "config-change",
    "capacity",
    "third-party",
    "database",
    "network",
    "certificate",
    "dns",
    "customer-facing",
    "data-loss",
    "security",
    "near-miss",
    "rollback",
    "cache",
    "queue",
    "memory",
    "disk",
    "latency",
    "errors",
    "regional",
    "on-call-handoff",
    "monitoring-gap",
    "flaky-alert",
    "dependency",
    "cost",
]
# (title pattern, weight): "BGP" is the rare one, a text search that has to look far.
SYMPTOMS = [
    ("Elevated 5xx rate on {s}", 12),
    ("p99 latency above SLO on {s}", 10),
    ("{s} pods crash-looping after deploy", 8),
    ("Kafka consumer lag on {s}", 6),
    ("TLS certificate expired for {s}", 3),
    ("Connection pool exhausted in {s}", 6),
    ("DNS resolution failures from {s}", 3),
    ("Disk full on {s} primary", 4),
    ("Memory leak in {s} workers", 5),
    ("Partial outage of {s} in eu-west-1", 4),
    ("Stale data served by {s}", 4),
    ("Failed deploy of {s} rolled back", 7),
    ("Third-party timeouts affecting {s}", 5),
    ("Queue backlog in {s}", 5),
    ("Error budget burn on {s}", 6),
    ("Replication delay for {s}", 3),
    ("Rate limits misconfigured on {s}", 2),
    ("Cron job overran on {s}", 3),
    ("Feature flag misfire in {s}", 3),
    ("OOM kills on {s} nodes", 4),
    ("BGP route leak affecting {s}", 0.05),
]
SEVERITY_WEIGHTS = [("SEV1", 2), ("SEV2", 8), ("SEV3", 25), ("SEV4", 35), ("SEV5", 30)]
FIRST = [
    "Ada",
    "Ben",
    "Chen",
    "Dana",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivo",
    "Jo",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Raj",
    "Sofia",
    "Tom",
]
LAST = ["Okafor", "Schmidt", "Tanaka", "Silva", "Novak", "Haddad", "Berg", "Kowalski", "Moreau", "Lindqvist"]
# Every entry says something of its own ({n}), as a real timeline does: no two render alike.
ENTRY_TEXTS = [
    "Alert fired: `HighErrorRate` for **{s}** (5xx at {n} per minute).",
    "Paged the on-call for {s} (page #{n}); acknowledged.",
    "Checked the [dashboard](https://grafana.example.com/d/{s}?panel={n}) — errors started at the last deploy.",
    "Rolled back `{s}` to release r{n}.",
    "Decision: freeze deploys to {s} until the cause is understood (change CR-{n}).",
    "Status page update {n}: *degraded performance* for {s} customers.",
    "Connection pool metrics at {n}:\n\n- active: 200/200\n- waiting: 1,432\n- p99 acquire: 2.3 s",
    "Scaled {s} from 12 to {n} replicas; latency improving.",
    "```\nERROR pool timeout after 30000ms (request {n})\n  at Pool.acquire (pool.js:211)\n```",
    "Customer support reports checkout failures in the EU; linking ticket SUP-{n}.",
    "Note {n}: the alert threshold was changed last week, which delayed detection.",
    "Error rate back under 0.1% for {n} minutes.",
]


@dataclass
class Seeded:
    """What the timed requests need to know about the seeded data."""

    timeline_incident: int
    visible_entries: int
    service: str
    common_text: str = "certificate"
    rare_text: str = "bgp"
    date_from: str = ""
    date_to: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> Iterator[str]:
    """An endless stream of choices by weight."""
    values = [v for v, _ in pairs]
    cumulative = [sum(w for _, w in pairs[: i + 1]) for i in range(len(pairs))]
    while True:
        yield rng.choices(values, cum_weights=cumulative, k=1)[0]


def seed(app: Flask, incidents: int) -> Seeded:
    """Bulk-write users, incidents with labels and roles, and one 2,000-entry timeline."""
    rng = random.Random(20261123)
    with app.app_context():
        session = get_session()
        bench = create_user(
            session,
            email=EMAIL,
            name="Bench Responder",
            role=Role.RESPONDER,
            password=PASSWORD,
            timezone="Europe/Berlin",
        )
        now = utcnow()
        session.execute(
            insert(User),
            [
                {
                    "email": f"user{k}@example.com",
                    "name": f"{FIRST[k % 20]} {LAST[k // 20 % 10]} {k}",
                    "role": Role.RESPONDER,
                    "timezone": None,
                    "is_active": True,
                    "created_at": now,
                }
                for k in range(200)
            ],
        )
        people = [bench.id, *session.scalars(select(User.id).where(User.id != bench.id))]
        service_of = weighted(rng, [(s, 1 / (k + 1) ** 0.9) for k, s in enumerate(SERVICES)])
        symptom_of = weighted(rng, [(pattern, float(w)) for pattern, w in SYMPTOMS])
        severity_of = weighted(rng, [(s, float(w)) for s, w in SEVERITY_WEIGHTS])
        rows, labels, roles = [], [], []
        for n in range(incidents):
            age = timedelta(minutes=15 * (incidents - n) + rng.randint(0, 14))  # ~3 years at 100,000
            started = now - age
            status = _status(rng, age)
            resolved = status in (Status.RESOLVED, Status.CLOSED)
            services = {next(service_of) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))}
            restricted = rng.random() < 0.05
            rows.append(
                {
                    "title": next(symptom_of).format(s=sorted(services)[0]),
                    "summary": "Customers saw errors; see the timeline.",
                    "severity": next(severity_of),
                    "status": status,
                    "visibility": Visibility.RESTRICTED if restricted else Visibility.OPEN,
                    "started_at": started,
                    "detected_at": started + timedelta(minutes=rng.randint(1, 20)),
                    "acknowledged_at": started + timedelta(minutes=rng.randint(21, 30)),
                    "mitigated_at": started + timedelta(minutes=rng.randint(31, 180))
                    if status is not Status.INVESTIGATING
                    else None,
                    "resolved_at": started + timedelta(minutes=rng.randint(181, 600)) if resolved else None,
                    "closed_at": started + timedelta(days=rng.randint(2, 14)) if status is Status.CLOSED else None,
                    "declared_at": started + timedelta(minutes=rng.randint(1, 20)),
                    "declared_by_id": rng.choice(people),
                    # Closing after the post-mortem touches it again, days after it started.
                    "updated_at": min(now, started + timedelta(days=rng.randint(0, 14), minutes=rng.randint(0, 1440))),
                }
            )
            labels.append(
                [(LabelKind.SERVICE, s) for s in services]
                + [(LabelKind.TEAM, rng.choice(TEAMS))]
                + [(LabelKind.TAG, t) for t in rng.sample(TAGS, rng.choice([0, 1, 1, 2, 3]))]
            )
            holders = rng.sample(people[1:], 5)
            held = [(holders[0], IncidentRole.COMMANDER)]
            if rng.random() < 0.5:
                held.append((holders[1], IncidentRole.SCRIBE))
            held += [(p, IncidentRole.PARTICIPANT) for p in holders[2 : 2 + rng.randint(0, 3)]]
            if rng.random() < (0.25 if restricted else 0.02):
                held.append((bench.id, IncidentRole.PARTICIPANT))
            roles.append(held)
        for chunk in _chunks(rows, 10_000):
            session.execute(insert(Incident), chunk)
        ids = list(session.scalars(select(Incident.id).order_by(Incident.id)))
        label_rows = [
            {"incident_id": i, "kind": k, "value": v} for i, held in zip(ids, labels, strict=True) for k, v in held
        ]
        role_rows = [
            {"incident_id": i, "user_id": u, "role": r, "assigned_at": now}
            for i, held in zip(ids, roles, strict=True)
            for u, r in held
        ]
        for chunk in _chunks(label_rows, 20_000):
            session.execute(insert(IncidentLabel), chunk)
        for chunk in _chunks(role_rows, 20_000):
            session.execute(insert(RoleAssignment), chunk)
        target, visible = _seed_timeline(session, rng, people, now)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # What autovacuum would do soon after a bulk load; without it the planner guesses blind.
            session.execute(text("ANALYZE"))
            session.commit()
        # A month from the middle of the history, so it has incidents whatever --incidents is.
        window = (now - timedelta(minutes=15 * incidents * 0.4)).date()
        counts = {
            "incidents": len(rows),
            "labels": len(label_rows),
            "role assignments": len(role_rows),
            "restricted": sum(r["visibility"] is Visibility.RESTRICTED for r in rows),
        }
        return Seeded(
            timeline_incident=target,
            visible_entries=visible,
            service="search",
            date_from=window.isoformat(),
            date_to=(window + timedelta(days=30)).isoformat(),
            counts=counts,
        )


def _status(rng: random.Random, age: timedelta) -> Status:
    """Open incidents are recent; most older ones are closed, a few left resolved."""
    if age < timedelta(hours=12):
        return rng.choice([Status.INVESTIGATING, Status.MITIGATED, Status.RESOLVED])
    if age < timedelta(days=14):
        return rng.choice([Status.RESOLVED, Status.CLOSED])
    return Status.RESOLVED if rng.random() < 0.01 else Status.CLOSED


def _seed_timeline(session: Session, rng: random.Random, people: list[int], now: datetime) -> tuple[int, int]:
    """A SEV1 of the last day and a half with 2,000 entries; returns its id and how many are not deleted."""
    started = now - timedelta(hours=36)
    target = session.scalar(
        insert(Incident)
        .values(
            title="Checkout outage: connection pool exhausted in payments",
            summary="Payments **could not** reach the database; checkout failed for *most* EU customers.",
            severity="SEV1",
            status=Status.MITIGATED,
            visibility=Visibility.OPEN,
            started_at=started,
            detected_at=started + timedelta(minutes=4),
            acknowledged_at=started + timedelta(minutes=6),
            mitigated_at=started + timedelta(hours=30),
            declared_at=started + timedelta(minutes=5),
            declared_by_id=people[0],
            updated_at=now,
            reference_timezone="America/New_York",
        )
        .returning(Incident.id)
    )
    assert target is not None
    session.execute(
        insert(IncidentLabel),
        [
            {"incident_id": target, "kind": k, "value": v}
            for k, v in [
                (LabelKind.SERVICE, "payments"),
                (LabelKind.SERVICE, "checkout"),
                (LabelKind.TEAM, "payments"),
                (LabelKind.TAG, "database"),
            ]
        ],
    )
    session.execute(
        insert(RoleAssignment),
        [
            {"incident_id": target, "user_id": u, "role": r, "assigned_at": started}
            for u, r in [
                (people[1], IncidentRole.COMMANDER),
                (people[2], IncidentRole.SCRIBE),
                (people[0], IncidentRole.PARTICIPANT),
            ]
        ],
    )
    sources = list(Source)
    kinds = list(EntryKind)
    entries = []
    # A few entries are 50,000 characters built to stall a Markdown parser (benchmarks/markdown_stress.py).
    stress = list(stress_set(50_000).values())
    stressed = dict(zip(rng.sample(range(TIMELINE_ENTRIES), STRESS_ENTRIES), stress, strict=False))
    for k in range(TIMELINE_ENTRIES):
        source = rng.choice(sources)
        text_ = stressed.get(k) or rng.choice(ENTRY_TEXTS).format(s=rng.choice(SERVICES), n=k + 1)
        entries.append(
            {
                "incident_id": target,
                "occurred_at": started + timedelta(seconds=k * 36 * 3600 // TIMELINE_ENTRIES + rng.randint(0, 30)),
                "recorded_at": started + timedelta(seconds=k * 36 * 3600 // TIMELINE_ENTRIES + 40),
                "source": source,
                "kind": rng.choice(kinds),
                "actor_id": rng.choice(people),
                "actor_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "text": text_,
                "text_html": rendering.stored_html(text_),  # as the writers do, when an entry is saved
                "evidence_url": f"https://grafana.example.com/d/{k}" if rng.random() < 0.1 else None,
                "is_key_moment": rng.random() < 0.04,
                "external_id": f"{source.value}-{k}" if source not in (Source.WEB, Source.API) else None,
                "edited_at": None,
                "deleted_at": None,
                "deleted_by_id": None,
            }
        )
    corrected = rng.sample(sorted(set(range(TIMELINE_ENTRIES)) - set(stressed)), 60)  # 3%, the first 20 deleted since
    deleted = set(corrected[:20])
    for k in corrected:
        entries[k]["edited_at"] = now - timedelta(hours=rng.randint(1, 10))
        if k in deleted:
            entries[k]["deleted_at"] = entries[k]["edited_at"]
            entries[k]["deleted_by_id"] = people[1]
    session.execute(insert(TimelineEntry), entries)
    entry_ids = list(
        session.scalars(select(TimelineEntry.id).where(TimelineEntry.incident_id == target).order_by(TimelineEntry.id))
    )
    revisions = []
    for k in corrected:
        before = {
            "occurred_at": entries[k]["occurred_at"].isoformat(),
            "kind": "note",
            "text": "first draft of this entry",
            "evidence_url": None,
            "is_key_moment": False,
        }
        revisions.append(
            {
                "entry_id": entry_ids[k],
                "change": RevisionChange.CORRECTION,
                "revised_at": entries[k]["edited_at"],
                "revised_by_id": rng.choice(people),
                "before": before,
            }
        )
        if k in deleted:
            revisions.append(
                {
                    "entry_id": entry_ids[k],
                    "change": RevisionChange.DELETION,
                    "revised_at": entries[k]["edited_at"],
                    "revised_by_id": people[1],
                    "before": before,
                }
            )
    session.execute(insert(TimelineEntryRevision), revisions)
    return target, TIMELINE_ENTRIES - len(deleted)


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def sign_in(client: FlaskClient) -> None:
    """Sign in through the login form, as a browser does: GET for the CSRF token, then POST."""
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on the login form"
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": match.group(1), "next": ""}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def next_link(page: str) -> str | None:
    """The list page's "Next page" link, as a browser would follow it."""
    match = re.search(r'<a rel="next" href="([^"]+)"', page)
    return html.unescape(match.group(1)) if match else None


def measure(count: int, call: Callable[[], Any]) -> list[float]:
    """Time count calls in milliseconds, after a short warm-up."""
    for _ in range(3):
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    """The 95th percentile, nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def run(
    backend: str,
    url: str,
    incidents: int,
    requests: int,
    results: dict[str, dict[str, tuple[float, float]]],
    outbox_worker: str = "thread",
) -> None:
    """Seed one backend, sign in and time every page."""
    # The outbox worker runs as a thread of the serving process by default, as it does in `make run`.
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "OUTBOX_WORKER": outbox_worker})
    engine = engine_of(app)
    all_tables().create_all(engine)
    started = time.perf_counter()
    seeded = seed(app, incidents)
    details = ", ".join(f"{v:,} {k}" for k, v in seeded.counts.items())
    print(
        f"{backend:10} seeded {details} and a {TIMELINE_ENTRIES:,}-entry timeline "
        f"in {time.perf_counter() - started:.1f} s"
    )
    client = app.test_client()
    sign_in(client)
    prepare_collector()  # as create_app does in a serving process (the benchmark passes a config, as tests do)

    def page(path: str, expect: str | None = None) -> Callable[[], str]:
        def call() -> str:
            response = client.get(path)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, (path, response.status_code, body[:500])
            assert expect is None or expect in body, (path, expect)
            return body

        return call

    deep = "/incidents"
    for _ in range(20):
        found = next_link(page(deep)())
        assert found, "the list ended before 20 pages"
        deep = found
    s = seeded
    cases = [
        (
            f"incident page, {TIMELINE_ENTRIES:,} entries",
            page(f"/incidents/{s.timeline_incident}", f"({s.visible_entries} entries)"),
        ),
        ("list, first page", page("/incidents", 'rel="next"')),
        ("list, service", page(f"/incidents?service={s.service}", 'rel="next"')),
        ("list, status + severity", page("/incidents?status=closed&severity=SEV1")),
        (f"list, title text (common: {s.common_text})", page(f"/incidents?q={s.common_text}", 'rel="next"')),
        (f"list, title text (rare: {s.rare_text})", page(f"/incidents?q={s.rare_text}")),
        ("list, date range (30 days)", page(f"/incidents?from={s.date_from}&to={s.date_to}", 'rel="next"')),
        ("list, sorted by severity", page("/incidents?sort=severity", 'rel="next"')),
        ("list, sorted by updated", page("/incidents?sort=updated", 'rel="next"')),
        ("list, page 21 (20 x next)", page(deep, 'rel="next"')),
        ("home page", page("/", "Open incidents")),
    ]
    # The first view of the big incident, alone: every entry's HTML was stored when it was written,
    # so it should cost what the later views cost.
    started = time.perf_counter()
    size = len(cases[0][1]().encode())
    cold = (time.perf_counter() - started) * 1000
    label = "incident page, first view"
    results.setdefault(label, {})[backend] = (cold, cold)
    print(f"{backend:10} {label:40} once {cold:8.2f} ms   ({size / 1_000_000:.2f} MB of HTML)")
    for label, call in cases:
        samples = measure(requests, call)
        median, high = statistics.median(samples), p95(samples)
        results.setdefault(label, {})[backend] = (median, high)
        verdict = "ok" if high < TARGET_MS else "OVER TARGET"
        print(
            f"{backend:10} {label:40} p50 {median:8.2f} ms   p95 {high:8.2f} ms   ({len(samples)} requests, {verdict})"
        )
    export = f"/incidents.csv?service={s.service}&status=closed"
    times, rows = [], 0
    for _ in range(4):
        start = time.perf_counter()
        response = client.get(export)
        body = response.get_data(as_text=True)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, body[:500]
        rows = body.count("\n") - 1
    times = times[1:]  # the first warms up
    label = "CSV export (service + closed)"
    results.setdefault(label, {})[backend] = (statistics.median(times), max(times))
    print(
        f"{backend:10} {label:40} total {statistics.median(times):8.0f} ms for {rows:,} rows"
        f" ({statistics.median(times) / max(rows, 1) * 1000:.0f} µs a row; best of {len(times)}: {min(times):.0f} ms)"
    )
    results.setdefault("_rows", {})[backend] = (float(rows), 0.0)
    engine.dispose()


def print_table(results: dict[str, dict[str, tuple[float, float]]], backends: list[str]) -> None:
    """The results as a Markdown table, ready for the README."""
    print()
    print("| request | " + " | ".join(f"{b} p50 / p95" for b in backends) + " |")
    print("| --- | " + " | ".join("---" for _ in backends) + " |")
    for label, by_backend in results.items():
        if label.startswith("_"):
            continue
        cells = []
        for b in backends:
            median, high = by_backend.get(b, (float("nan"), float("nan")))
            if label.startswith("CSV"):
                rows = int(results["_rows"].get(b, (0.0, 0.0))[0])
                cells.append(f"{median / 1000:.2f} s total ({rows:,} rows)")
            elif "(cold)" in label:
                cells.append(f"{median:.1f} ms, once")
            else:
                cells.append(f"{median:.1f} / {high:.1f} ms")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    """Run the benchmark on the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--outbox-worker", choices=["thread", "off"], default="thread")
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float]]] = {}
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.db", args.incidents, args.requests, results, args.outbox_worker)
    if "postgresql" in backends:
        with postgres_databases() as (url,):
            run("postgresql", url, args.incidents, args.requests, results, args.outbox_worker)
    print_table(results, backends)


if __name__ == "__main__":
    main()

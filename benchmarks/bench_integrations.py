"""Storm benchmark of the pager integrations, over real HTTP on loopback against gunicorn.

20,000 deliveries (Alertmanager groups of 1-50 alerts that grow and then resolve, and PagerDuty
incidents that are triggered, acknowledged, annotated and resolved), 20% of them exact re-sends,
from 16 concurrent senders. On SQLite and on PostgreSQL. Prints deliveries/s, p50/p99 latency and
the count check (every delivery stored or recognised as a duplicate, every alert occurrence
exactly once), and the same load against a bare Flask endpoint that stores one row per request
(the ceiling), with our throughput as a fraction of it. Both servers run at once and take turns
of 1,000 deliveries, so a drift in the machine's speed falls on both. Target: at least half the
ceiling, p99 under 250 ms, zero lost. Meanwhile a responder declares an incident and writes its
first entry through the API every 200 ms of Kintsugi's turns; the benchmark prints how long that
took, since a storm is when people need the tool.

    .venv/bin/python benchmarks/bench_integrations.py                      # both backends
    .venv/bin/python benchmarks/bench_integrations.py --backend sqlite --deliveries 5000 --workers 1
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ceiling_app import metadata as ceiling_metadata
from scratch import postgres_databases
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from incidents.accounts.service import create_api_token, create_user
from incidents.alerts.models import AlertOccurrence, Delivery
from incidents.models import Incident, TimelineEntry
from incidents.tables import all_tables

AM_TOKEN = "bench-am-token"
PD_SECRET = "bench-pd-secret"
SENDERS = 16


@dataclass(frozen=True)
class Send:
    """One HTTP delivery: where, what, with which headers."""

    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Workload:
    """The deliveries in sending order and what the database must hold afterwards."""

    sends: list[Send]
    unique: int
    occurrences: int


@dataclass
class Outcome:
    """What the senders saw."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, other: Outcome) -> None:
        """Count another turn's requests in."""
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.statuses.update(other.statuses)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alertmanager_group(rng: random.Random, group: int, base: datetime) -> tuple[list[Send], int]:
    """A group's notifications as it grows to its size (1-50), then one where every alert resolved."""
    size = rng.randint(1, 50)
    severity = rng.choices(["critical", "warning", "info"], weights=[5, 15, 80])[0]
    service = f"svc-{group % 40}"
    starts = base + timedelta(seconds=group)
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"Alert{group}", "service": service, "severity": severity, "instance": f"i-{n}"},
            "annotations": {"summary": f"alert {n} of group {group}", "runbook_url": "https://runbooks.example.com/x"},
            "startsAt": iso(starts),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com/graph",
            "fingerprint": f"{group:08x}{n:08x}",
        }
        for n in range(size)
    ]
    # The group is re-sent whole as it grows: a few distinct notifications, then the resolution.
    steps = sorted(set(rng.sample(range(1, size + 1), min(size, rng.randint(1, 4)))) | {size})
    notifications = [alerts[:step] for step in steps]
    ended = iso(starts + timedelta(minutes=5))
    notifications.append([a | {"status": "resolved", "endsAt": ended} for a in alerts])
    sends = []
    for seq, group_alerts in enumerate(notifications):
        payload = {
            "receiver": "kintsugi",
            "status": "resolved" if seq == len(notifications) - 1 else "firing",
            "alerts": group_alerts,
            "groupLabels": {"alertname": f"Alert{group}", "service": service},
            "commonLabels": {"alertname": f"Alert{group}"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.com:9093",
            "version": "4",
            "groupKey": f'{{}}:{{alertname="Alert{group}"}}',
            "truncatedAlerts": 0,
        }
        body = json.dumps(payload).encode()
        sends.append(Send("/integrations/alertmanager", body, {"Authorization": f"Bearer {AM_TOKEN}"}))
    return sends, size


def pagerduty_incident(rng: random.Random, number: int, base: datetime) -> list[Send]:
    """A PagerDuty incident's four events, each a signed webhook with its own X-Webhook-Id."""
    incident_id = f"QBENCH{number:07d}"
    created = base + timedelta(seconds=number)
    data = {
        "id": incident_id,
        "type": "incident",
        "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
        "number": number,
        "status": "triggered",
        "incident_key": f"key-{number}",
        "created_at": iso(created),
        "title": f"Checkout errors {number}",
        "service": {"summary": f"svc-{number % 40}", "type": "service_reference"},
        "priority": None,
        "urgency": rng.choice(["high", "low"]),
    }
    user = {"summary": "Bob Oncall", "type": "user_reference", "id": "PBOB"}
    events = [
        ("incident.triggered", data),
        ("incident.acknowledged", data | {"status": "acknowledged"}),
        ("incident.annotated", {"type": "incident_note", "content": "Rolled back", "incident": {"id": incident_id}}),
        ("incident.resolved", data | {"status": "resolved"}),
    ]
    sends = []
    for n, (event_type, event_data) in enumerate(events):
        event = {
            "event": {
                "id": f"EV{number:07d}{n}",
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": iso(created + timedelta(seconds=30 * n)),
                "agent": user,
                "client": None,
                "data": event_data,
            }
        }
        body = json.dumps(event).encode()
        signature = "v1=" + hmac.new(PD_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-PagerDuty-Signature": signature, "X-Webhook-Id": str(uuid.uuid4())}
        sends.append(Send("/integrations/pagerduty", body, headers))
    return sends


def build_workload(total: int, duplicate_share: float, seed: int = 7) -> Workload:
    """Unique deliveries (Alertmanager about 70%, PagerDuty 30%), then exact re-sends mixed in after their originals."""
    rng = random.Random(seed)
    base = datetime.now(UTC) - timedelta(days=2)
    unique_target = total - int(total * duplicate_share)
    unique: list[Send] = []
    occurrences = 0
    group = number = 0
    while len(unique) < unique_target:
        if rng.random() < 0.7:
            sends, size = alertmanager_group(rng, group, base)
            group += 1
            occurrences += size
        else:
            sends = pagerduty_incident(rng, number, base)
            number += 1
            occurrences += 1
        unique.extend(sends)
    # Trim to the target without cutting a group's or incident's story short: drop whole tails instead.
    unique = unique[:unique_target]
    occurrences = count_occurrences(unique)
    order = list(unique)
    for _ in range(total - len(unique)):
        original = rng.randrange(len(unique))
        position = rng.randint(min(len(order), original + 1), len(order))
        order.insert(position, unique[original])
    return Workload(order, len(unique), occurrences)


def count_occurrences(sends: list[Send]) -> int:
    """Distinct alert occurrences the unique deliveries report: (fingerprint, startsAt) and PagerDuty incidents."""
    seen: set[tuple[str, str]] = set()
    for send in sends:
        payload = json.loads(send.body)
        if "alerts" in payload:
            seen.update((a["fingerprint"], a["startsAt"]) for a in payload["alerts"])
        else:
            data = payload["event"]["data"]
            seen.add(("pd", data.get("id") or data["incident"]["id"]))
    return len(seen)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def gunicorn(target: str, url: str, workers: int, threads: int, *extra: str) -> Iterator[str]:
    """Serve target on a free loopback port; stop it (by its pid) afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "KINTSUGI_DATABASE_URL": url,
        "KINTSUGI_SECRET_KEY": "bench",
        "KINTSUGI_ALERTMANAGER_TOKEN": AM_TOKEN,
        "KINTSUGI_PAGERDUTY_WEBHOOK_SECRETS": PD_SECRET,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra,
        target,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"gunicorn did not start {target}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def storm(base: str, sends: list[Send], ceiling: bool = False) -> Outcome:
    """Send everything from SENDERS threads with keep-alive connections; time each request."""
    outcome = Outcome(seconds=0.0)
    lock = threading.Lock()
    counter = itertools.count()

    def sender() -> None:
        http = requests.Session()
        latencies, statuses = [], Counter[str]()
        while (index := next(counter)) < len(sends):
            send = sends[index]
            path = "/store" if ceiling else send.path
            started = time.perf_counter()
            try:
                answer = http.post(
                    base + path,
                    data=send.body,
                    headers={"Content-Type": "application/json", **send.headers},
                    timeout=60,
                )
                latencies.append(time.perf_counter() - started)
                status = answer.json().get("status", "?") if answer.status_code < 300 else str(answer.status_code)
            except requests.RequestException as exc:
                status = f"error {type(exc).__name__}"
            statuses[status] += 1
        with lock:
            outcome.latencies.extend(latencies)
            outcome.statuses.update(statuses)

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.seconds = time.perf_counter() - started
    return outcome


class Responder:
    """A person using the API while the storm runs: declares an incident and writes its first entry,
    every 200 ms while it is Kintsugi's turn, timing each pair of requests."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.active, self.stop = threading.Event(), threading.Event()
        self.latencies: list[float] = []
        self.failures: Counter[str] = Counter()
        self.thread = threading.Thread(target=self._work)

    def __enter__(self) -> Responder:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.active.set()
        self.thread.join()

    def _work(self) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {self.token}"
        while not self.stop.is_set():
            self.active.wait()
            if self.stop.is_set():
                return
            started = time.perf_counter()
            declared = http.post(
                f"{self.base}/api/incidents", json={"title": "Checkout slow", "severity": "SEV2"}, timeout=60
            )
            if declared.status_code != 201:
                self.failures[f"declare {declared.status_code}"] += 1
            else:
                entry = http.post(
                    f"{self.base}/api/incidents/{declared.json()['id']}/timeline",
                    json={"text": "Rolled back the deploy"},
                    timeout=60,
                )
                if entry.status_code == 201:
                    self.latencies.append(time.perf_counter() - started)
                else:
                    self.failures[f"entry {entry.status_code}"] += 1
            self.stop.wait(0.2)


def responder_token(url: str) -> str:
    """An API token of a responder, made in the app's database before the servers start."""
    engine = create_engine(url)
    with Session(engine) as session:
        user = create_user(session, email="responder@example.com", name="Bench Responder")
        _token, secret = create_api_token(session, user_id=user.id)
    engine.dispose()
    return secret


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def run(backend: str, urls: tuple[str, str], workload: Workload, workers: int, threads: int, chunk: int) -> None:
    """Both servers up at once, the storm sent to each in turn, chunk by chunk.

    The machine's speed drifts (other work on the same cores); taking turns every few seconds lets
    Kintsugi and the ceiling see the same machine, so the fraction measures the code, not the drift.
    """
    app_url, ceiling_url = urls
    engine = create_engine(app_url)
    all_tables().create_all(engine)
    ceiling_engine = create_engine(ceiling_url)
    ceiling_metadata.create_all(ceiling_engine)
    ceiling_engine.dispose()
    token = responder_token(app_url)
    ours, ceiling = Outcome(seconds=0.0), Outcome(seconds=0.0)
    with (
        gunicorn("app:create_app()", app_url, workers, threads) as base,
        gunicorn(
            "ceiling_app:create_app()", ceiling_url, workers, threads, "--pythonpath", str(ROOT / "benchmarks")
        ) as ceiling_base,
        Responder(base, token) as responder,
    ):
        for start in range(0, len(workload.sends), chunk):
            sends = workload.sends[start : start + chunk]
            responder.active.set()
            ours.add(storm(base, sends))
            responder.active.clear()
            ceiling.add(storm(ceiling_base, sends, ceiling=True))
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Delivery)) or 0
        occurrences = connection.scalar(select(func.count()).select_from(AlertOccurrence)) or 0
        incidents = (
            connection.scalar(select(func.count()).select_from(Incident).where(Incident.declared_by_id.is_(None))) or 0
        )
        entries = connection.scalar(select(func.count()).select_from(TimelineEntry)) or 0
    engine.dispose()

    total = len(workload.sends)
    rate, ceiling_rate = total / ours.seconds, total / ceiling.seconds
    duplicates = ours.statuses.get("duplicate", 0)
    lost = total - sum(
        n for s, n in ours.statuses.items() if s in ("applied", "ignored", "duplicate", "undecipherable")
    )
    print(
        f"\n== {backend}: {total} deliveries from {SENDERS} senders; gunicorn {workers} workers x {threads} threads; "
        f"turns of {chunk} =="
    )
    print(
        f"kintsugi  {rate:8.0f} deliveries/s   p50 {percentile(ours.latencies, 0.5):6.1f} ms   "
        f"p99 {percentile(ours.latencies, 0.99):6.1f} ms   answers {dict(ours.statuses)}"
    )
    print(
        f"ceiling   {ceiling_rate:8.0f} deliveries/s   p50 {percentile(ceiling.latencies, 0.5):6.1f} ms   "
        f"p99 {percentile(ceiling.latencies, 0.99):6.1f} ms   answers {dict(ceiling.statuses)}"
    )
    print(f"fraction of the ceiling: {rate / ceiling_rate:.2f}")
    print(
        f"stored {stored} + duplicates {duplicates} = {stored + duplicates} of {total} sent "
        f"({workload.unique} unique): "
        f"{'OK' if stored == workload.unique and stored + duplicates == total else 'MISMATCH'}"
    )
    if responder.latencies:
        print(
            f"a responder meanwhile: {len(responder.latencies)} incidents declared with a first entry, "
            f"p50 {percentile(responder.latencies, 0.5):.1f} ms, slowest {max(responder.latencies) * 1000:.1f} ms "
            f"(two requests each); failures {dict(responder.failures) or 'none'}"
        )
    else:
        print(f"a responder meanwhile: nothing went through; failures {dict(responder.failures)}")
    print(
        f"alert occurrences {occurrences} of {workload.occurrences} reported: "
        f"{'OK' if occurrences == workload.occurrences else 'MISMATCH'}; lost {lost}; "
        f"{incidents} incidents declared by alerts, {entries} timeline entries in all"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    # A worker per CPU on either database: on SQLite the workers' writers take turns on a lock file
    # (incidents/writer_turns.py) rather than sleeping on each other's locks.
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: one per CPU, at least 2)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=1000, help="deliveries per turn before the other server's turn")
    args = parser.parse_args()
    workload = build_workload(args.deliveries, args.duplicates)
    workers = args.workers or max(2, os.cpu_count() or 2)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            urls = (f"sqlite:///{folder}/bench.db", f"sqlite:///{folder}/ceiling.db")
            run("sqlite", urls, workload, workers, args.threads, args.chunk)
    if args.backend in ("postgres", "both"):
        with postgres_databases(2) as (app_url, ceiling_url):
            run("postgres", (app_url, ceiling_url), workload, workers, args.threads, args.chunk)


if __name__ == "__main__":
    main()

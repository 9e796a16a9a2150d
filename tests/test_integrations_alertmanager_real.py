"""End to end with the real sender: Debian's prometheus-alertmanager notifies the app served on loopback.

Alerts pushed through Alertmanager's API become an incident and its timeline; resolving them marks it
mitigated (the rule says so); killing and restarting the app mid-stream leaves, after Alertmanager's
retries and repeats, exactly one entry per alert occurrence. Every wait is bounded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from alerting import AM_TOKEN, db
from conftest import system_tool
from flask import Flask
from sqlalchemy import func, select

from incidents.alerts.models import AlertOccurrence, Delivery
from incidents.models import Incident, Status, TimelineEntry

ROOT = Path(__file__).resolve().parent.parent
SERVE = (
    "import sys; from werkzeug.serving import make_server; from app import create_app;"
    "make_server('127.0.0.1', int(sys.argv[1]), create_app(), threaded=True).serve_forever()"
)
RULES = """
[[rule]]
source = "alertmanager"
action = "declare"
match = { severity = "critical" }
severity = "SEV1"
mitigate_when_resolved = true
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


class Server:
    """The app in a process of its own, which the test can kill outright and start again."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE, str(self.port)], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        wait_for("the app to answer", lambda: answers(f"http://127.0.0.1:{self.port}/healthz"), 20)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def stack(app: Flask, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """The app served on a free loopback port, and Alertmanager notifying it fast (1 s wait, 3 s interval)."""
    binary = system_tool("prometheus-alertmanager")
    app_port, am_port = free_port(), free_port()
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    env = {
        **os.environ,
        "KINTSUGI_DATABASE_URL": app.config["DATABASE_URL"],
        "KINTSUGI_SECRET_KEY": "e2e",
        "KINTSUGI_ALERTMANAGER_TOKEN": AM_TOKEN,
        "KINTSUGI_ALERT_RULES": str(rules),
        "KINTSUGI_SEARCH_INDEX": str(tmp_path / "search"),
    }
    server = Server(app_port, env, tmp_path / "app.log")
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: kintsugi
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 5s
receivers:
  - name: kintsugi
    webhook_configs:
      - url: 'http://127.0.0.1:{app_port}/integrations/alertmanager'
        http_config:
          authorization: {{type: Bearer, credentials: '{AM_TOKEN}'}}
"""
    )
    with (tmp_path / "alertmanager.log").open("wb") as am_log:
        alertmanager = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=am_log,
            stderr=am_log,
        )
    try:
        server.start()
        wait_for("Alertmanager to be ready", lambda: answers(f"http://127.0.0.1:{am_port}/-/ready"), 20)
        yield server, f"http://127.0.0.1:{am_port}"
    finally:
        alertmanager.kill()
        alertmanager.wait(10)
        server.kill()


def push(alertmanager: str, *alerts: dict[str, Any]) -> None:
    answer = requests.post(f"{alertmanager}/api/v2/alerts", json=list(alerts), timeout=5)
    assert answer.status_code == 200, answer.text


def alert(name: str, service: str, instance: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": {"alertname": name, "service": service, "severity": "critical", "instance": instance},
        "annotations": {"summary": f"{name} on {service}", "runbook_url": f"https://runbooks.example.com/{name}"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=up",
    }
    if ends is not None:
        body["endsAt"] = ends.isoformat().replace("+00:00", "Z")
    return body


def entries(app: Flask, text: str) -> int:
    with db(app) as session:
        return session.scalar(select(func.count()).select_from(TimelineEntry).where(TimelineEntry.text == text)) or 0


def incident_of(app: Flask, service: str) -> Incident | None:
    with db(app) as session:
        found = session.scalars(select(Incident).where(Incident.title.like(f"%for {service}%"))).all()
        assert len(found) <= 1, "one incident per group"
        if found:
            assert found[0].labels is not None
        return found[0] if found else None


def test_real_alertmanager_fires_resolves_and_survives_an_app_restart(app: Flask, stack: tuple[Server, str]) -> None:
    server, alertmanager = stack
    now = datetime.now(UTC).replace(microsecond=0)
    starts = now - timedelta(minutes=2)
    pushed_at = datetime.now(UTC)
    push(
        alertmanager,
        alert("HighErrorRate", "checkout", "checkout-1", starts),
        alert("HighErrorRate", "checkout", "checkout-2", starts),
    )
    firing = "Alertmanager: HighErrorRate firing for checkout (HighErrorRate on checkout)"
    wait_for("both checkout alerts on the timeline", lambda: entries(app, firing) == 2)
    incident = incident_of(app, "checkout")
    assert incident is not None
    assert (incident.severity, incident.status) == ("SEV1", Status.INVESTIGATING)
    assert [label.value for label in incident.labels] == ["checkout"]
    assert incident.started_at == starts
    assert incident.detected_at is not None and pushed_at <= incident.detected_at <= datetime.now(UTC)

    # Resolve one, then the other: mitigated only when both have resolved, at the last end.
    push(alertmanager, alert("HighErrorRate", "checkout", "checkout-1", starts, datetime.now(UTC)))
    resolved = "Alertmanager: HighErrorRate resolved for checkout"
    wait_for("the first resolution", lambda: entries(app, resolved) == 1)
    still_open = incident_of(app, "checkout")
    assert still_open is not None and still_open.status is Status.INVESTIGATING
    last_end = datetime.now(UTC).replace(microsecond=0)
    push(alertmanager, alert("HighErrorRate", "checkout", "checkout-2", starts, last_end))
    wait_for("the second resolution", lambda: entries(app, resolved) == 2)
    mitigated = incident_of(app, "checkout")
    assert mitigated is not None and mitigated.status is Status.MITIGATED
    assert mitigated.mitigated_at == last_end

    # The app dies with alerts on their way; Alertmanager retries until it is back.
    server.kill()
    payments = [alert("LatencyHigh", "payments", f"payments-{n}", now - timedelta(seconds=30)) for n in range(3)]
    push(alertmanager, payments[0])
    time.sleep(1.5)
    push(alertmanager, payments[1], payments[2])
    time.sleep(3)
    server.start()
    latency = "Alertmanager: LatencyHigh firing for payments (LatencyHigh on payments)"
    wait_for("the payments alerts after the restart", lambda: entries(app, latency) == 3, 40)
    # Let repeats (every 5 s) and any late retries arrive, then count again.
    time.sleep(8)
    assert entries(app, latency) == 3
    assert entries(app, firing) == 2 and entries(app, resolved) == 2
    with db(app) as session:
        assert session.scalar(select(func.count()).select_from(AlertOccurrence)) == 5
        assert session.scalar(select(func.count()).select_from(Incident)) == 2
        assert (session.scalar(select(func.count()).select_from(Delivery)) or 0) >= 4

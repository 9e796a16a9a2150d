"""Driving the pages in a real browser: the app on a loopback port, Debian's Chromium through Playwright.

Screenshots and accessibility reports go to test-output/ at the project's root, kept after the run.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
# axe-core's impact levels that fail a page; "minor" and "moderate" findings are reported only.
FAILING_IMPACTS = ("serious", "critical")


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve the app on a free loopback port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot of what the browser shows now."""
    path = OUTPUT / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def accessibility_violations(page: Any, name: str) -> list[dict[str, Any]]:
    """Run axe-core on the page; keep its report and return the serious and critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    report = OUTPUT / "accessibility" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    violations: list[dict[str, Any]] = results.response["violations"]
    report.write_text(json.dumps(violations, indent=2))
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v["impact"] in FAILING_IMPACTS
    ]

"""Kintsugi's application factory: configuration, then each package's init_app. Wiring only."""

from __future__ import annotations

import gc
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

import incidents
import integrations
import search

DEFAULT_SEVERITIES = "SEV1,SEV2,SEV3,SEV4,SEV5"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from defaults, instance/config.py, KINTSUGI_* variables and test_config."""
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{instance / 'kintsugi.db'}",
        SEVERITIES=DEFAULT_SEVERITIES,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="kintsugi_session",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        TRUSTED_PROXIES=0,
        RATELIMIT_STORAGE_URI="memory://",
        LOGIN_FREE_FAILURES=5,
        LOGIN_FIRST_WAIT_SECONDS=1,
        LOGIN_MAX_WAIT_SECONDS=15 * 60,
        LOGIN_ADDRESS_FREE_FAILURES=100,
        LOGIN_ADDRESS_MAX_WAIT_SECONDS=60,
        PAGE_SIZE=50,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("KINTSUGI")
        _secrets_as_typed(app)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    incidents.init_app(app)
    integrations.init_app(app)
    search.init_app(app)
    if test_config is None:
        prepare_collector()
    return app


# A request that builds a 2,000-entry timeline makes some 100,000 objects: at the default threshold
# (700) the collector runs a hundred young collections during it, and now and then an older one,
# which shows at p95. A serving process collects less often.
COLLECTOR_THRESHOLDS = (50_000, 50, 100)


def prepare_collector() -> None:
    """What a serving process does with the garbage collector once loaded: what is loaded now lives as
    long as it does, so freeze it (a full collection then skips every module and the app, ~100 ms on a
    big page), and collect young objects less often."""
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def _secrets_as_typed(app: Flask) -> None:
    """Passwords, secrets and tokens exactly as typed: from_prefixed_env reads values as JSON, which
    would make a password "1.50" into 1.5 and "true" into True."""
    for name, value in os.environ.items():
        if name.startswith("KINTSUGI_") and any(word in name for word in ("PASSWORD", "SECRET", "TOKEN")):
            app.config[name.removeprefix("KINTSUGI_")] = value


def _instance_secret(instance: Path) -> str:
    """Read the instance's session secret, creating it on first start so restarts keep sessions."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # another process (or an earlier start) made it
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()

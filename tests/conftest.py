"""A fresh app per test with its own database: SQLite in tmp_path, or a PostgreSQL database of this run.

Set KINTSUGI_TEST_DATABASE_URL to a PostgreSQL URL (for example
postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the suite against PostgreSQL: the run
creates a database of its own beside that one and drops it at the end.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from incidents.accounts.service import create_api_token, create_user
from incidents.database import engine_of, get_session
from incidents.models import Role, User
from incidents.tables import all_tables
from incidents.writer_turns import WriterTurns
from search import postgres_tables

PG_URL = os.environ.get("KINTSUGI_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A PostgreSQL database for this run (dropped afterwards), or None to use SQLite."""
    if not PG_URL:
        yield None
        return
    with scratch_postgres_database("kintsugi_test") as url:
        engine = create_engine(url)
        all_tables().create_all(engine)
        with engine.begin() as connection:
            postgres_tables.create(connection)
        engine.dispose()
        yield url


class scratch_postgres_database:
    """Create a uniquely named database beside KINTSUGI_TEST_DATABASE_URL's and drop it on exit."""

    def __init__(self, prefix: str) -> None:
        self.name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")

    def __enter__(self) -> str:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        return make_url(PG_URL).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *_exc: Any) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that asks for `search_backend` runs against each engine the run's database offers:
    Whoosh always, PostgreSQL's full text too under `make test-postgres`."""
    if "search_backend" in metafunc.fixturenames:
        metafunc.parametrize("search_backend", ["whoosh", "postgres"] if PG_URL else ["whoosh"], indirect=True)


@pytest.fixture
def search_backend(request: pytest.FixtureRequest) -> str:
    """The search engine a library test runs against (see pytest_generate_tests)."""
    backend: str = request.param
    return backend


@pytest.fixture
def app(tmp_path: Any, postgres_database: str | None, request: pytest.FixtureRequest) -> Iterator[Flask]:
    url = postgres_database or f"sqlite:///{tmp_path / 'kintsugi.db'}"
    backend = request.getfixturevalue("search_backend") if "search_backend" in request.fixturenames else "whoosh"
    # A test module adds settings of its own (Slack's, say) with a fixture named app_config.
    extra = request.getfixturevalue("app_config") if "app_config" in request.fixturenames else {}
    flask_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": url,
            "SEVERITIES": "SEV1,SEV2,SEV3,SEV4,SEV5",
            "SEARCH_INDEX": str(tmp_path / "search"),
            "SEARCH_BACKEND": backend,
            **extra,
        }
    )
    engine = engine_of(flask_app)
    if postgres_database is None:
        all_tables().create_all(engine)
    yield flask_app
    if postgres_database is not None:
        every = [*all_tables().sorted_tables, *postgres_tables.metadata.sorted_tables]
        tables = ", ".join(f'"{t.name}"' for t in every)
        with engine.begin() as connection:
            # A test that left a transaction open fails loudly here instead of hanging the run.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session of its own, for arranging and checking state."""
    with app.app_context():
        yield get_session()


@dataclass
class Caller:
    """A user with an API token, calling the JSON API through the test client."""

    client: FlaskClient
    user: User
    token: str

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        if raw is not None:
            kw["data"] = raw
            headers["Content-Type"] = "application/json"
        elif body is not None:
            kw["json"] = body
        return self.client.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


@pytest.fixture
def make_caller(app: Flask, client: FlaskClient) -> Any:
    """Make a user of a role with a token: make_caller("viewer", email=..., name=...)."""

    def make(role: str = "responder", *, email: str | None = None, name: str | None = None, **extra: Any) -> Caller:
        with app.app_context():
            session = get_session()
            user = create_user(
                session,
                email=email or f"{role}-{uuid.uuid4().hex[:6]}@example.com",
                name=name,
                role=Role(role),
                **extra,
            )
            _, secret = create_api_token(session, user_id=user.id)
        return Caller(client=app.test_client(), user=user, token=secret)

    return make


@pytest.fixture
def responder(make_caller: Any) -> Caller:
    return make_caller("responder", email="riley@example.com", name="Riley Responder")


@pytest.fixture
def admin(make_caller: Any) -> Caller:
    return make_caller("admin", email="ada@example.com", name="Ada Admin")


def declare(caller: Caller, **fields: Any) -> dict[str, Any]:
    """Declare an incident through the API and return its JSON (asserting it was created)."""
    body = {"title": "Checkout errors", "severity": "SEV2", **fields}
    response = caller.post("/api/incidents", body)
    assert response.status_code == 201, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


PASSWORD = "correct horse battery"


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def words_of(html: str) -> str:
    """What a page (or a piece of one) says: its text without tags, runs of spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, next_url: str = "") -> Any:
    page = client.get("/login" + (f"?next={next_url}" if next_url else "")).get_data(as_text=True)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page), "next": next_url},
    )


def make_user(app: Flask, email: str, role: Role = Role.RESPONDER, zone: str | None = "UTC") -> None:
    with app.app_context():
        create_user(
            get_session(), email=email, name=email.split("@")[0].title(), role=role, password=PASSWORD, timezone=zone
        )


def system_tool(*names: str) -> str:
    """The path of a system binary the test drives (the first of names found).

    Missing: the test is skipped on a developer's machine, but fails when
    KINTSUGI_REQUIRE_SYSTEM_TOOLS is set (as .ci/run sets it), so CI never passes by skipping.
    """
    import shutil

    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = f"{' or '.join(names)} is not installed (apt-get install it; .ci/run does)"
    if os.environ.get("KINTSUGI_REQUIRE_SYSTEM_TOOLS"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module (the browser suites share it)."""
    path = system_tool("chromium", "chromium-browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The test's app served on a loopback port, for a real browser."""
    from browser import served

    with served(app) as url:
        yield url


@contextmanager
def turn_held_by_another_thread(turns: WriterTurns) -> Iterator[None]:
    """Inside the block, another thread of this process holds the writers' turn."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with turns.turn():
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        done.set()
        holder.join()

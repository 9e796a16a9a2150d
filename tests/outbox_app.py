"""A Kintsugi app whose outbox has handlers that record each call, for tests here and in subprocesses.

    flask --app outbox_app:worker_app worker     # KINTSUGI_DATABASE_URL names the test's database

Every call of a handler writes (handler, event key, pid) to `outbox_test_calls`, so a second
application of one row is visible. "test.once" is idempotent besides: its effect, a row in
`outbox_test_effects` keyed by (handler, event key), is written only if absent. With
OUTBOX_TEST_KILL_AT = n in the config, "test.once" kills its process (os._exit) on the event
whose key is n, before doing anything for it: a worker dying mid-batch.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, UniqueConstraint, func, insert, select

from app import create_app
from incidents.database import get_session
from incidents.events import Event, IncidentDeclared, subscribe, unsubscribe
from search import HANDLER as SEARCH_HANDLER

metadata = MetaData()
CALLS = Table(
    "outbox_test_calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handler", String(100), nullable=False),
    Column("event_key", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
)
EFFECTS = Table(
    "outbox_test_effects",
    metadata,
    Column("handler", String(100), nullable=False),
    Column("event_key", Integer, nullable=False),
    UniqueConstraint("handler", "event_key"),
)
HANDLERS = ("test.record", "test.once")


def event(key: int) -> IncidentDeclared:
    """A test event whose key (its incident id) is `key`."""
    return IncidentDeclared(incident_id=key, actor_id=None, actor_name="PagerDuty", source="pagerduty")


def recorder(name: str, *, idempotent: bool = False) -> Any:
    """A handler that records each call, and (idempotent) its effect once per event."""

    def handle(happened: Event) -> None:
        key = happened.incident_id  # type: ignore[attr-defined]
        if idempotent and current_app.config.get("OUTBOX_TEST_KILL_AT") == key:
            os._exit(9)
        session = get_session()
        session.execute(insert(CALLS).values(handler=name, event_key=key, pid=os.getpid()))
        if idempotent:
            done = session.scalar(
                select(EFFECTS.c.event_key).where(EFFECTS.c.handler == name, EFFECTS.c.event_key == key)
            )
            if done is None:
                session.execute(insert(EFFECTS).values(handler=name, event_key=key))
        session.commit()

    return handle


def build_app(url: str, **config: Any) -> Flask:
    """A test app on the database at `url` with the recording handlers subscribed to IncidentDeclared."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url, **config})
    subscribe_recorders(app)
    return app


def subscribe_recorders(app: Flask) -> None:
    """Subscribe "test.record" and "test.once" to IncidentDeclared, and nothing else: the outbox alone."""
    unsubscribe(app, SEARCH_HANDLER)
    subscribe(app, IncidentDeclared, "test.record", recorder("test.record"))
    subscribe(app, IncidentDeclared, "test.once", recorder("test.once", idempotent=True))


def worker_app() -> Flask:
    """The app `flask worker` runs in the multi-process test: "test.record" only, short polls, small batches."""
    config = {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": os.environ["KINTSUGI_DATABASE_URL"]}
    app = create_app({**config, "OUTBOX_POLL_SECONDS": 0.05, "OUTBOX_BATCH_SIZE": 25})
    unsubscribe(app, SEARCH_HANDLER)
    subscribe(app, IncidentDeclared, "test.record", recorder("test.record"))
    return app


def create_tables(engine: Engine) -> None:
    """Create the handlers' tables."""
    metadata.create_all(engine)


def drop_tables(engine: Engine) -> None:
    """Drop the handlers' tables."""
    metadata.drop_all(engine)


def calls(engine: Engine) -> dict[tuple[str, int], int]:
    """How many times each (handler, event key) was applied."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(CALLS.c.handler, CALLS.c.event_key, func.count()).group_by(CALLS.c.handler, CALLS.c.event_key)
        )
        return {(handler, key): count for handler, key, count in rows}


def effects(engine: Engine) -> list[tuple[str, int]]:
    """The idempotent handler's effects, in order."""
    with engine.connect() as connection:
        return [
            tuple(row) for row in connection.execute(select(EFFECTS).order_by(EFFECTS.c.handler, EFFECTS.c.event_key))
        ]  # type: ignore[misc]


def pids(engine: Engine) -> set[int]:
    """The processes that applied something."""
    with engine.connect() as connection:
        return set(connection.scalars(select(CALLS.c.pid).distinct()))

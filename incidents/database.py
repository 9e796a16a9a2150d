"""The database engine and one session per app context, opened lazily and closed on teardown."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from .writer_turns import WriterTurns

EXTENSION = "kintsugi.database"
WRITER_TURN = "kintsugi.writer_turn"
# How long a SQLite writer waits for the file's lock, and for its turn behind the others.
SQLITE_BUSY_SECONDS = 30.0


def init_app(app: Flask) -> None:
    """Create the engine and session factory for this app and close sessions on teardown."""
    engine = build_engine(app.config["DATABASE_URL"])
    # SQLite lets one writer at a time, and a writer that finds the file locked sleeps in steps of
    # up to 100 ms. Busy writers queue instead (see writer_turn).
    info = {WRITER_TURN: writer_turns_of(engine)} if engine.dialect.name == "sqlite" else {}
    app.extensions[EXTENSION] = sessionmaker(engine, expire_on_commit=False, info=info)
    app.teardown_appcontext(_close_session)


@contextmanager
def writer_turn(session: Session) -> Iterator[None]:
    """Around a write transaction that runs often and concurrently (a storm of pager deliveries).

    On SQLite the writers of every process serving the database take turns (WriterTurns), so
    that none polls the locked file; on PostgreSQL, which has row locks, it does nothing. The
    transaction ends inside: committed by the caller, or rolled back here when an exception leaves.
    """
    turns: WriterTurns | None = session.info.get(WRITER_TURN)
    with turns.turn() if turns is not None else nullcontext():
        try:
            yield
        except BaseException:
            session.rollback()
            raise


def writer_turns_of(engine: Engine) -> WriterTurns:
    """The writers' turns of a SQLite engine's database (its file; none for one in memory)."""
    return WriterTurns(sqlite_file(engine.url), patience=SQLITE_BUSY_SECONDS)


def sqlite_file(url: URL) -> str | None:
    """The absolute path of a SQLite URL's database file; None for a database in memory."""
    database = url.database or ""
    if url.query.get("uri") == "true" and database.startswith("file:"):
        # sqlite:///file:kintsugi.db?uri=true&mode=ro: the path is what follows "file:".
        database = "" if url.query.get("mode") == "memory" else database.removeprefix("file:").split("?")[0]
    return None if database in ("", ":memory:") else os.path.abspath(database)


def build_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, WAL and a busy timeout."""
    # No pre-ping: it costs a round trip per request. A connection the server dropped fails
    # once (answered 503, so senders retry) and the pool replaces it.
    options: dict[str, Any] = {"pool_recycle": 3600}
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
        if sqlite_file(make_url(url)) is not None:
            # LIFO: the writers, who take turns (writer_turn), get the connection the last one
            # used, whose page cache is still good; any other would reread every page it touches.
            options["pool_use_lifo"] = True
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_settings)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgresql_settings(dbapi_connection: Any, _record: Any) -> None:
    # JIT compilation pays off for long analytic queries; on a list query whose estimated cost
    # crosses jit_above_cost (a scan of 100,000 incidents does) it spent ~90 ms compiling a
    # query that then ran in 60. Set per connection: the server's default stays the DBA's.
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def engine_of(app: Flask) -> Engine:
    """The app's engine."""
    factory: sessionmaker[Session] = app.extensions[EXTENSION]
    bind = factory.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def get_session() -> Session:
    """The session of the current app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    session: Session = g.db_session
    return session


def open_session() -> Session:
    """A session of its own, for work that outlives the request (a streamed export); close it yourself."""
    factory: sessionmaker[Session] = current_app.extensions[EXTENSION]
    return factory()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()

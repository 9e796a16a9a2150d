"""The database wiring: writers' turns on SQLite, a failed turn leaving no transaction open, times as SQLite keeps them."""

from __future__ import annotations

import os
import select
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from incidents.database import open_session, writer_turn
from incidents.models import UTCDateTime
from incidents.writer_turns import WriterTurns


def test_a_failed_turn_rolls_its_transaction_back(app: Flask) -> None:
    with app.app_context():
        session = open_session()
        try:
            with pytest.raises(RuntimeError), writer_turn(session):
                session.execute(text("SELECT 1"))
                assert session.in_transaction()
                raise RuntimeError("the delivery failed")
            assert not session.in_transaction()
        finally:
            session.close()


def test_sqlite_writers_of_one_process_take_turns(app: Flask) -> None:
    if app.config["DATABASE_URL"].startswith("postgresql"):
        # PostgreSQL writers need no turn: the lock is absent there by design, so they overlap.
        overlaps = _overlapping_turns(app)
        assert overlaps > 0
        return
    assert _overlapping_turns(app) == 0


def _overlapping_turns(app: Flask) -> int:
    """How many times a thread found another inside its turn, over 4 threads x 5 turns."""
    inside = 0
    overlaps = 0
    guard = threading.Lock()
    start = threading.Barrier(4)

    def writer() -> None:
        nonlocal inside, overlaps
        with app.app_context():
            session = open_session()
            try:
                start.wait()
                for _ in range(5):
                    with writer_turn(session):
                        with guard:
                            inside += 1
                            overlaps += inside > 1
                        time.sleep(0.01)
                        with guard:
                            inside -= 1
                        session.rollback()
            finally:
                session.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return overlaps


def test_sqlite_stores_times_as_its_datetime_type_writes_them() -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DATETIME().bind_processor(dialect)
    assert ours is not None and theirs is not None
    kolkata = timezone(timedelta(hours=5, minutes=30))
    for moment in (
        datetime(2026, 11, 23, 22, 19, 10, tzinfo=timezone.utc),
        datetime(2026, 11, 24, 3, 49, 10, 123, tzinfo=kolkata),
        datetime(5, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    ):
        assert ours(moment) == theirs(moment.astimezone(timezone.utc).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 11, 23, 22, 19, 10))


def test_the_processes_of_one_sqlite_database_take_turns_on_a_file_beside_it(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "kintsugi.db"))
    assert turns.lock_path == str(tmp_path / "kintsugi.db-writers")
    with turns.turn():
        pass  # this process has its descriptor of the lock file before the fork, as a preloaded app would
    go_read, go_write = os.pipe()
    inside_read, inside_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a second worker process of the same database
        try:
            os.read(go_read, 1)
            with turns.turn():
                os.write(inside_write, b"1")
        finally:
            os._exit(0)
    try:
        with turns.turn():
            os.write(go_write, b"1")
            waiting, _, _ = select.select([inside_read], [], [], 0.5)
            assert not waiting, "the other process wrote while this one held the turn"
        ready, _, _ = select.select([inside_read], [], [], 10)
        assert ready, "the other process never got its turn"
    finally:
        os.waitpid(pid, 0)
        for fd in (go_read, go_write, inside_read, inside_write):
            os.close(fd)


def test_a_sqlite_database_in_memory_has_no_lock_file() -> None:
    turns = WriterTurns(None)
    assert turns.lock_path is None
    with turns.turn():
        pass

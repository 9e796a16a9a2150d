"""The database wiring: writers' turns on SQLite, a failed turn leaving no transaction, times as SQLite keeps them."""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import turn_held_by_another_thread
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.pool import NullPool

from incidents.database import open_session, writer_turn, writer_turns_of
from incidents.models import UTCDateTime
from incidents.writer_turns import TurnNotTaken, WriterTurns


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
        datetime(2026, 11, 23, 22, 19, 10, tzinfo=UTC),
        datetime(2026, 11, 24, 3, 49, 10, 123, tzinfo=kolkata),
        datetime(5, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    ):
        assert ours(moment) == theirs(moment.astimezone(UTC).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 11, 23, 22, 19, 10))


def test_the_processes_of_one_sqlite_database_take_turns_on_a_file_beside_it(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "kintsugi.db"), patience=10)
    assert turns.lock_path == str(tmp_path / "kintsugi.db-writers")
    ready_read, ready_write = os.pipe()
    inside_read, inside_write = os.pipe()
    with turns.turn():
        # Forked while this process holds the turn: the hardest case for the child, whose copy of
        # the descriptor and of the threads' lock are the parent's.
        pid = os.fork()
        if pid == 0:  # a second worker process of the same database
            try:
                os.write(ready_write, b"1")
                with turns.turn():
                    os.write(inside_write, str(time.monotonic()).encode())
            finally:
                os._exit(0)
        try:
            assert select.select([ready_read], [], [], 10)[0], "the other process never started"
            waiting, _, _ = select.select([inside_read], [], [], 0.5)
            assert not waiting, "the other process wrote while this one held the turn"
            released = time.monotonic()
        except BaseException:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
    try:
        assert select.select([inside_read], [], [], 10)[0], "the other process never got its turn"
        assert float(os.read(inside_read, 64)) >= released
    finally:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        for fd in (ready_read, ready_write, inside_read, inside_write):
            os.close(fd)


def test_a_writer_waits_for_its_turn_no_longer_than_its_patience(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "kintsugi.db"), patience=0.2)
    with turn_held_by_another_thread(turns):
        started = time.monotonic()
        with pytest.raises(TurnNotTaken), turns.turn():
            pass
        assert 0.2 <= time.monotonic() - started < 5
    with turns.turn():  # free again once the holder is done
        pass


@pytest.mark.parametrize(
    ("url", "lock_file"),
    [
        ("sqlite:///{folder}/kintsugi.db", "{folder}/kintsugi.db-writers"),
        ("sqlite:///file:{folder}/kintsugi.db?uri=true&mode=rw", "{folder}/kintsugi.db-writers"),
        ("sqlite:///relative.db", "{cwd}/relative.db-writers"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file::memory:?uri=true&cache=shared", None),
        ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
    ],
)
def test_the_lock_file_lies_beside_the_database_file(tmp_path: Path, url: str, lock_file: str | None) -> None:
    engine = create_engine(url.format(folder=tmp_path), poolclass=NullPool)
    try:
        turns = writer_turns_of(engine)
    finally:
        engine.dispose()
    expected = lock_file.format(folder=tmp_path, cwd=os.getcwd()) if lock_file else None
    assert turns.lock_path == expected


def test_writers_who_cannot_open_the_lock_file_still_take_turns_within_the_process(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "no-such-folder" / "kintsugi.db"), patience=0.2)
    with turns.turn():
        assert turns.lock_path is None
        with pytest.raises(TurnNotTaken):
            # Another thread of the same process must still wait.
            _turn_in_thread(turns)


def _turn_in_thread(turns: WriterTurns) -> None:
    failure: list[BaseException] = []

    def take() -> None:
        try:
            with turns.turn():
                pass
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(10)
    if failure:
        raise failure[0]


def test_a_child_forked_inside_a_turn_leaves_it_and_then_waits_its_own(tmp_path: Path) -> None:
    turns = WriterTurns(str(tmp_path / "kintsugi.db"), patience=10)
    done_read, done_write = os.pipe()
    child = False
    with turns.turn():
        pid = os.fork()
        child = pid == 0
        if not child:
            time.sleep(0.3)  # the parent holds its turn a while after the fork
            released = time.monotonic()
    if child:
        try:
            with turns.turn():  # after leaving the inherited turn without unlocking the parent's
                os.write(done_write, str(time.monotonic()).encode())
        finally:
            os._exit(0)
    try:
        assert select.select([done_read], [], [], 10)[0], "the child failed to leave the turn or to take its own"
        assert float(os.read(done_read, 64)) >= released
    finally:
        os.waitpid(pid, 0)
        os.close(done_read)
        os.close(done_write)

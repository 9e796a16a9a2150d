"""The writers' turn: SQLite writers of one process queue on a lock; a failed turn leaves no transaction open."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import text

from incidents.database import open_session, writer_turn


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

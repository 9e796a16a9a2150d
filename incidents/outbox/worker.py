"""The worker's loop, run as a daemon thread of a serving process or in the foreground by `flask worker`.

The thread is the single-process default (OUTBOX_WORKER = "thread"; "off" in tests and for web
processes of a deployment that runs `flask worker`s instead). It starts with the first request a
process serves, not at init_app: a `flask db upgrade` never starts one, and a gunicorn worker
forked from a preloaded app starts its own. A commit that wrote outbox rows wakes this process's
thread at once (after_commit); polling every OUTBOX_POLL_SECONDS finds the rest: rows written by
other processes, and rows whose backoff or lease has ended.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from ..database import EXTENSION
from ..events import ROWS_WRITTEN
from ..models import utcnow
from .service import BatchOutcome, OutboxSettings, drain_batch, prune_applied

log = logging.getLogger(__name__)
WAKE = "kintsugi.outbox.wake"
THREAD = "kintsugi.outbox.thread"
MODES = ("thread", "off")
PRUNE_EVERY_SECONDS = 60.0
STOP_PATIENCE_SECONDS = 5.0


def init_app(app: Flask) -> None:
    """Wake the worker after commits that wrote outbox rows, and start its thread when so configured."""
    mode = app.config.get("OUTBOX_WORKER", "off" if app.testing else "thread")
    if mode not in MODES:
        raise ValueError(f"OUTBOX_WORKER must be one of {', '.join(MODES)}, not {mode!r}")
    OutboxSettings.from_config(app.config)  # a bad setting fails at start-up
    app.extensions[WAKE] = threading.Event()
    factory: sessionmaker[Session] = app.extensions[EXTENSION]

    def wake_after_commit(session: Session) -> None:
        if session.info.pop(ROWS_WRITTEN, False):
            app.extensions[WAKE].set()

    def forget_after_rollback(session: Session) -> None:
        session.info.pop(ROWS_WRITTEN, None)

    event.listen(factory, "after_commit", wake_after_commit)
    event.listen(factory, "after_rollback", forget_after_rollback)
    if mode == "thread":
        app.before_request(partial(ensure_thread, app))


def new_worker_id() -> str:
    """A name for a worker, unique across hosts and restarts, stored in the rows it claims."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """One loop draining the outbox; `totals` counts what it did."""

    def __init__(self, app: Flask, *, worker_id: str | None = None) -> None:
        self.app = app
        self.id = worker_id or new_worker_id()
        self.totals = BatchOutcome()
        # Set while the loop waits for work: a test can commit knowing only a wake-up will find it.
        self.idle = threading.Event()

    def run(
        self,
        stop: threading.Event,
        wake: threading.Event,
        *,
        stop_when_empty: bool = False,
        max_seconds: float | None = None,
    ) -> None:
        """Drain batch after batch until `stop` is set; when none is due, wait for `wake` or the poll interval."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        next_prune = time.monotonic()
        failures = 0
        while not stop.is_set():
            settings = OutboxSettings.from_config(self.app.config)
            wake.clear()  # before the claim: a commit after it sets wake again, and the wait returns at once
            claimed: int | None = None
            try:
                outcome = drain_batch(self.app, worker_id=self.id, settings=settings, should_stop=stop.is_set)
                self.totals.add(outcome)
                claimed = outcome.claimed
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                    self._prune(settings)
                failures = 0
            except Exception:
                # The database went away, or was busy past our patience: the leases keep the rows safe.
                # The first failure in a row is told whole; the next ones briefly, ever less often.
                failures += 1
                if failures == 1:
                    log.exception("outbox worker %s: a batch failed; trying again", self.id)
                else:
                    log.warning("outbox worker %s: still failing (%d times in a row)", self.id, failures)
            if deadline is not None and time.monotonic() >= deadline:
                break
            if claimed:
                continue
            if stop_when_empty and claimed == 0:
                break
            timeout = settings.poll_seconds * 2 ** min(failures, 6) if failures else settings.poll_seconds
            if deadline is not None:
                timeout = min(timeout, max(deadline - time.monotonic(), 0.0))
            self.idle.set()
            wake.wait(timeout)
            self.idle.clear()

    def _prune(self, settings: OutboxSettings) -> None:
        factory: sessionmaker[Session] = self.app.extensions[EXTENSION]
        before = utcnow() - timedelta(seconds=settings.keep_applied_seconds)
        with factory() as session:
            pruned = prune_applied(session, before=before)
        if pruned:
            log.info("outbox worker %s: pruned %d applied rows", self.id, pruned)


@dataclass
class _Thread:
    pid: int
    thread: threading.Thread
    stop: threading.Event
    worker: Worker
    at_exit: partial[None]


_starting = threading.Lock()


def ensure_thread(app: Flask) -> None:
    """Start this process's worker thread unless it runs (a forked process starts its own)."""
    running: _Thread | None = app.extensions.get(THREAD)
    if running is not None and running.pid == os.getpid():
        return
    with _starting:
        running = app.extensions.get(THREAD)
        if running is None or running.pid != os.getpid():
            start_thread(app)


def start_thread(app: Flask) -> Worker:
    """Start a worker thread for the app (a daemon, stopped at exit); the worker it runs."""
    if app.extensions.get(THREAD) is not None:
        # The parent's thread, copied by a fork: its Event may be in any state; start afresh.
        app.extensions[WAKE] = threading.Event()
    worker = Worker(app)
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run, args=(stop, app.extensions[WAKE]), name=f"outbox-worker {worker.id}", daemon=True
    )
    at_exit = partial(stop_thread, app)
    app.extensions[THREAD] = _Thread(os.getpid(), thread, stop, worker, at_exit)
    # A daemon thread dies mid-row at exit; stopping it lets it mark what it did and hand back the rest.
    atexit.register(at_exit)
    thread.start()
    return worker


def stop_thread(app: Flask, timeout: float = STOP_PATIENCE_SECONDS) -> None:
    """Ask this process's worker thread to stop after the row it is applying, and wait for it a while."""
    running: _Thread | None = app.extensions.get(THREAD)
    if running is None or running.pid != os.getpid():
        return
    running.stop.set()
    app.extensions[WAKE].set()
    running.thread.join(timeout)
    atexit.unregister(running.at_exit)
    del app.extensions[THREAD]

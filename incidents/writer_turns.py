"""SQLite's one writer at a time, as a queue instead of a poll.

A SQLite writer that finds the file locked sleeps and tries again, in steps of up to 100 ms. Under a
storm of pager deliveries that is most of the time. Writers that take turns here instead wait in
the kernel and start the moment the previous one is done: the threads of a process queue on a
lock, and the processes serving one database (gunicorn workers) on a file lock beside it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

log = logging.getLogger(__name__)


class TurnNotTaken(Exception):
    """A writer waited longer than its patience for its turn: the database is busy; try again."""


class WriterTurns:
    """The turns of the writers of one SQLite database; database is its file, or None in memory.

    A writer waits at most `patience` seconds behind the other threads of its process. Behind a
    writer of another process it waits without a limit of its own, as that writer's wait for
    SQLite's lock is itself limited (the busy timeout), and only one thread per process waits there.
    """

    def __init__(self, database: str | None, *, patience: float) -> None:
        self._lock_path = f"{database}-writers" if database else None
        self.patience = patience
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._closer: weakref.finalize[..., WriterTurns] | None = None
        # A forked worker opens the lock file anew: on the parent's descriptor flock would count
        # both processes as one holder. A thread of the parent holding a turn at the fork does
        # not hold one in the child.
        os.register_at_fork(after_in_child=partial(_forget_parent, weakref.ref(self)))

    @property
    def lock_path(self) -> str | None:
        """The file the processes lock, beside the database (None when there is none to lock)."""
        return self._lock_path

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn and hold it inside the block; TurnNotTaken when it took too long."""
        threads = self._threads  # a fork inside the block gives the child new ones
        if not threads.acquire(timeout=self.patience):
            raise TurnNotTaken(f"no turn to write after {self.patience:g} s: the database is busy")
        try:
            fd = self._descriptor()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            holder = os.getpid()
            try:
                yield
            finally:
                if os.getpid() == holder:  # a child forked inside the block holds nothing to unlock
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            threads.release()

    def _descriptor(self) -> int | None:
        """This process's descriptor of the lock file; called holding the threads' lock.

        When the file cannot be opened (a read-only folder, another owner), the processes fall
        back on SQLite's own lock, which is slower under load but as safe.
        """
        if self._fd is None and self._lock_path is not None:
            try:
                self._fd = os.open(self._lock_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                log.warning("writers of %s cannot take turns across processes: %s", self._lock_path, exc)
                self._lock_path = None
                return None
            self._closer = weakref.finalize(self, os.close, self._fd)
        return self._fd

    def _forget_parents_turns(self) -> None:
        self._threads = threading.Lock()
        if self._closer is not None:
            self._closer()  # closes this process's copy only; the parent's stays open and locked
        self._fd = self._closer = None


def _forget_parent(turns: weakref.ReferenceType[WriterTurns]) -> None:
    found = turns()
    if found is not None:
        found._forget_parents_turns()

"""SQLite's one writer at a time, as a queue instead of a poll.

A SQLite writer that finds the file locked sleeps and tries again, in steps of up to 100 ms. Under a
storm of pager deliveries that is most of the time. Writers that take turns here instead wait in
the kernel and start the moment the previous one is done: the threads of a process queue on a
lock, and the processes serving one database (gunicorn workers) on a file lock beside it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WriterTurns:
    """The turns of the writers of one SQLite database; database is its file, or None in memory."""

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._lock_path = f"{database}-writers" if database else None
        # The lock file is opened by each process itself: a descriptor inherited across a fork
        # would be the parent's, and flock would count both processes as one holder.
        self._opened_by: int | None = None
        self._fd: int | None = None

    @property
    def lock_path(self) -> str | None:
        """The file the processes lock, beside the database (None for a database in memory)."""
        return self._lock_path

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn and hold it inside the block."""
        with self._threads:
            fd = self._descriptor()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int | None:
        """This process's descriptor of the lock file; called holding the threads' lock."""
        if self._lock_path is None:
            return None
        if self._opened_by != os.getpid():
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._opened_by = os.getpid()
        return self._fd

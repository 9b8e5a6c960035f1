"""The index's write lock: one writing process at a time, released by the OS if the writer dies.

`filelock` takes an OS lock on ``<index>/write.lock`` (flock on POSIX, LockFileEx on Windows),
so a writer killed with SIGKILL never leaves a stale lock behind. The holder writes its pid to
``<index>/write.pid`` (a separate file: on Windows the locked file itself cannot be read), which
only serves the "busy" message; a stale pid file from a killed writer is harmless because it is
read only when the lock is really held by someone else.

    >>> lock = WriteLock(Path("/tmp/photos.idx"))                       # doctest: +SKIP
    >>> with lock: ...                                                  # doctest: +SKIP
"""
from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import CliplensError

LOCK_FILE = "write.lock"
PID_FILE = "write.pid"


class IndexBusyError(CliplensError):
    """Another process is writing to this index."""


class WriteLock:
    """Non-blocking, re-entrant (per object) exclusive lock on an index folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = FileLock(str(self.root / LOCK_FILE), timeout=0, thread_local=False)
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._depth > 0

    def holder(self) -> str:
        """The pid written by the current holder ("?" when unknown)."""
        try:
            return (self.root / PID_FILE).read_text().strip() or "?"
        except OSError:
            return "?"

    def acquire(self) -> None:
        """Take the lock now or raise `IndexBusyError` naming the holder's pid."""
        if self._depth:
            self._depth += 1
            return
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise IndexBusyError(f"index {self.root} is being written by another process (pid {self.holder()}); "
                                 "wait for it to finish, or use another index folder") from None
        self._depth = 1
        try:
            (self.root / PID_FILE).write_text(str(os.getpid()))
        except OSError:  # the pid is only for messages; never fail a write for it
            pass

    def release(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._lock.release()

    def __enter__(self) -> "WriteLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

"""Taking turns to write to one SQLite file, across threads and across processes.

SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5 ... up to
100 ms between tries: under load, waiting writers sleep long after the file is free. So writers
queue before ``BEGIN IMMEDIATE`` instead: the threads of a process on a lock, the processes
(several ``qingliu serve`` workers, the scheduler, the CLI) on an exclusive ``flock`` of a
sidecar file ``<database>-turn``, which the kernel hands to the next waiter as soon as it is
released. SQLite's own locking still guarantees correctness; the turn only makes waiting
prompt and orderly. Without ``fcntl`` (not POSIX) or a file path (``:memory:``), only threads
take turns. A write that had to wait is counted, with the seconds it waited
(``engine.metrics``: ``qingliu_write_turn_waits_total``, ``..._wait_seconds_total``).
"""

from __future__ import annotations

import os
import threading
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

from engine.metrics import instruments

__all__ = ["WriteTurn"]


class WriteTurn:
    def __init__(self, database: str | None) -> None:
        self._threads = threading.RLock()
        self._path = f"{database}-turn" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._depth = 0  # re-entrant in a thread: only the outermost turn holds the file

    def acquire(self, blocking: bool = True) -> bool:
        """Take the turn; without ``blocking``, False at once when someone else has it."""
        began: float | None = None  # when this write started waiting, if it had to
        if not self._threads.acquire(blocking=False):
            if not blocking:
                return False
            began = time.monotonic()
            self._threads.acquire()
        if self._depth == 0 and not self._lock_file(blocking=False):
            if not blocking:
                self._threads.release()
                return False
            began = time.monotonic() if began is None else began
            self._lock_file(blocking=True)
        self._depth += 1
        if began is not None:
            waited = instruments()
            waited.turn_waits.inc()
            waited.turn_wait_seconds.inc(time.monotonic() - began)
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _lock_file(self, blocking: bool) -> bool:
        if self._path is None or fcntl is None:
            return True
        if self._fd is None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                self._path = None  # e.g. a missing folder: SQLite will report the real error
                return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

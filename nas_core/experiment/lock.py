"""One search per experiment folder: an OS file lock on ``<workdir>/experiment.lock``.

The lock is an advisory ``flock`` held on an open file for as long as a search runs; the
operating system drops it when the process ends, however it ends (``kill -9`` included),
so a lock left by a dead process is simply taken over. The file also records who holds
the lock (pid, host, start time) for the error a second search gets. Readers (``nas
results``, the dashboard) never take the lock: they read the SQLite store, which allows
concurrent readers.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import IO, Any

from nas_core.errors import ExperimentInUseError, StoreError

__all__ = ["LOCK_FILENAME", "ExperimentLock", "lock_holder"]

LOCK_FILENAME = "experiment.lock"

try:  # POSIX
    import fcntl

    def _try_lock(f: IO[Any]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(f: IO[Any]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(f: IO[Any]) -> bool:
        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only
        except OSError:
            return False
        return True

    def _unlock(f: IO[Any]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]  # Windows only


def lock_holder(workdir: str | os.PathLike) -> dict[str, Any] | None:
    """Who wrote the lock file last (``{"pid", "host", "started"}``), or None; says nothing about liveness."""
    try:
        data = json.loads((Path(workdir) / LOCK_FILENAME).read_text() or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class ExperimentLock:
    """The exclusive lock of one experiment folder (``acquire()`` / ``release()``, or ``with``)."""

    def __init__(self, workdir: str | os.PathLike) -> None:
        self.workdir = Path(workdir)
        self.path = self.workdir / LOCK_FILENAME
        self._file: IO[Any] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> "ExperimentLock":
        """Take the lock now or raise :class:`ExperimentInUseError` naming the process that holds it."""
        if self._file is not None:
            return self
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            f = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
        except OSError as err:
            raise StoreError(
                f"cannot write in the experiment folder {self.workdir} ({err.strerror or err}); a search writes its "
                "trials there. Use a folder you can write to (--workdir).") from None
        if not _try_lock(f):
            f.close()
            raise ExperimentInUseError(self._in_use_message())
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))
        f.flush()
        self._file = f
        return self

    def release(self) -> None:
        if self._file is None:
            return
        f, self._file = self._file, None
        try:
            _unlock(f)
        finally:
            f.close()

    def __enter__(self) -> "ExperimentLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _in_use_message(self) -> str:
        holder = lock_holder(self.workdir)
        who = (f"process {holder.get('pid', '?')} on host {holder.get('host', '?')}" if holder
               else "another process")
        since = ""
        if holder and isinstance(holder.get("started"), (int, float)):
            since = f" (since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder['started']))})"
        return (f"experiment folder {self.workdir} is in use by {who}{since}. Wait for that search to finish or "
                "stop it, or run this one in another folder (--workdir). Reading its results (`nas results`) "
                "works meanwhile.")


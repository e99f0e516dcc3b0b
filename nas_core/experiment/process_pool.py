"""``process-pool``: trials in a local pool of worker processes (spawn or forkserver).

A worker that dies (killed from outside, out of system memory, a crash in native code)
breaks a :class:`concurrent.futures.ProcessPoolExecutor`: its running futures fail with
``BrokenProcessPool``. This executor then builds a fresh pool on the next submit, so the
search goes on; the runner records or retries the trials that were lost.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor as _Pool
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from nas_core.errors import ConfigError
from nas_core.interfaces import Executor

__all__ = ["ProcessPoolExecutor", "BrokenProcessPool"]

CONTEXTS = ("spawn", "forkserver")


class ProcessPoolExecutor(Executor):
    """Runs trials in ``max_workers`` local processes (default: the number of CPUs).

    ``context`` is ``"spawn"`` (default, works everywhere) or ``"forkserver"``; ``fork`` is
    refused because forking a process that has started torch threads can deadlock.
    """

    def __init__(self, max_workers: int | None = None, context: str = "spawn") -> None:
        if max_workers is None:
            max_workers = os.cpu_count() or 1
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
            raise ConfigError(f"executor max_workers must be a positive integer, got {max_workers!r}.")
        if context not in CONTEXTS:
            raise ConfigError(
                f"executor context {context!r} is not supported; use one of {', '.join(CONTEXTS)} "
                "('fork' can deadlock once torch has started threads)."
            )
        if context == "forkserver" and "forkserver" not in mp.get_all_start_methods():
            raise ConfigError("the forkserver start method is not available on this platform; use context='spawn'.")
        self.max_workers = max_workers
        self.context = context
        self.rebuilds = 0
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> _Pool:
        return _Pool(max_workers=self.max_workers, mp_context=mp.get_context(self.context))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                self._rebuild()
                return self._pool.submit(fn, *args, **kwargs)

    def _rebuild(self) -> None:
        old = self._pool
        old.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        self.rebuilds += 1

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (started lazily, so empty before the first trial)."""
        procs = getattr(self._pool, "_processes", None) or {}
        return [p.pid for p in procs.values() if p.is_alive()]

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._pool.shutdown(wait=wait, cancel_futures=True)

    def __repr__(self) -> str:
        return f"ProcessPoolExecutor(max_workers={self.max_workers}, context={self.context!r})"

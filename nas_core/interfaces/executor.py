"""Executor: where trials run (in process, a local process pool, a cluster)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["Executor", "InProcessExecutor"]


class Executor(ABC):
    """Runs trial functions and returns :class:`concurrent.futures.Future` objects.

    ``fn`` and its arguments must be picklable for executors that leave the process.
    :attr:`max_workers` is how many trials may run at once.
    """

    max_workers: int = 1
    #: True when :meth:`stop` can stop a running call (``trial_timeout`` and ``max_duration`` need it)
    can_stop: bool = False

    @abstractmethod
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Schedule ``fn(*args, **kwargs)``."""

    def stop(self, future: Future) -> bool:
        """Stop the call behind ``future`` if it is still running (its worker is replaced).

        Returns True when it was stopped; the future is then abandoned (the caller records
        why). The default cannot stop anything and returns False.
        """
        return False

    def shutdown(self, wait: bool = True) -> None:
        """Release workers."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class InProcessExecutor(Executor):
    """Runs each trial immediately, in this process (the default; easiest to debug)."""

    max_workers = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - delivered through the future
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            fut.set_exception(err)
        return fut

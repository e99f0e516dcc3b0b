"""``process-pool``: trials in local worker processes, one pipe each, one device each.

Unlike :class:`concurrent.futures.ProcessPoolExecutor`, a worker that dies (killed from
outside, out of system memory, a crash in native code) fails only the call it was running:
its slot starts a fresh worker and the other workers go on. :meth:`ProcessPoolExecutor.stop`
kills the worker of one call (``trial_timeout``, ``max_duration``). Workers exit within a
second of their parent's death (see :mod:`nas_core.experiment.worker`).

Start-up is fast: with the default ``forkserver`` context the server imports torch and
the trial machinery once (plus the modules named by :meth:`preload`), and every worker is
a fork of it.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import wait as wait_ready
from typing import Any, Callable, Iterable, Sequence

from nas_core.errors import ConfigError, NasError
from nas_core.interfaces import Executor
from nas_core.experiment.worker import worker_main

__all__ = ["ProcessPoolExecutor", "WorkerDied", "TrialStopped", "PRELOAD"]

CONTEXTS = ("forkserver", "spawn")
#: modules the forkserver imports once, before any worker is forked
PRELOAD = ("torch", "nas_core", "nas_core.experiment.trial", "nas_core.space")


class WorkerDied(NasError, RuntimeError):
    """The worker running a call died (only that call fails; the slot gets a fresh worker)."""


class TrialStopped(NasError, RuntimeError):
    """The call was stopped on purpose (:meth:`ProcessPoolExecutor.stop`)."""


class _Worker:
    """One worker process, its call pipe and its lifeline."""

    def __init__(self, ctx: Any, env: dict[str, str]) -> None:
        self.conn, child = ctx.Pipe()
        lifeline_r, self.lifeline = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=worker_main, args=(child, lifeline_r, env), daemon=True, name="nas-worker")
        self.proc.start()
        child.close()
        lifeline_r.close()
        self.ready = False
        self.future: Future | None = None
        self.stopped = False

    def wait_ready(self, timeout: float | None = None) -> bool:
        if not self.ready and self.conn in wait_ready([self.conn, self.proc.sentinel], timeout):
            try:
                self.ready = self.conn.recv()[0] == "ready"
            except (EOFError, OSError):
                return False
        return self.ready

    def close(self, kill: bool = False) -> None:
        if kill and self.proc.is_alive():
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        for c in (self.conn, self.lifeline):
            c.close()


class ProcessPoolExecutor(Executor):
    """Runs trials in ``max_workers`` local processes, each on its own device.

    ``devices``: one per worker, e.g. ``["cuda:0", "cuda:1"]`` (``max_workers`` defaults to
    their number; with more workers they are shared round-robin); each worker sees only
    its GPU (``CUDA_VISIBLE_DEVICES``), so the trainer's ``"cuda"`` (or ``"auto"``) device is
    that GPU. ``gpus_per_trial``: instead of ``devices``, split the visible GPUs into groups
    of that many, one group per worker. ``context``: ``"forkserver"`` (default where
    available: workers fork from a server that has imported torch once) or ``"spawn"``.
    """

    can_stop = True

    def __init__(self, max_workers: int | None = None, context: str | None = None,
                 devices: Sequence[str] | None = None, gpus_per_trial: int | None = None,
                 preload: Iterable[str] = ()) -> None:
        if context is None:
            context = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        if context not in CONTEXTS:
            raise ConfigError(
                f"executor context {context!r} is not supported; use one of {', '.join(CONTEXTS)} "
                "('fork' can deadlock once torch has started threads)."
            )
        if context == "forkserver" and "forkserver" not in mp.get_all_start_methods():
            raise ConfigError("the forkserver start method is not available on this platform; use context='spawn'.")
        self.envs = _worker_envs(devices, gpus_per_trial)
        if max_workers is None:
            max_workers = len(self.envs) if self.envs else (os.cpu_count() or 1)
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
            raise ConfigError(f"executor max_workers must be a positive integer, got {max_workers!r}.")
        self.max_workers = max_workers
        self.context = context
        self.deaths = 0  # workers that died (or were stopped) and were replaced
        self._ctx = mp.get_context(context)
        self._preload = list(PRELOAD) + [m for m in preload if m not in PRELOAD]
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._slots: list[_Worker | None] = []
        self._threads: list[threading.Thread] = []
        self._closed = False

    # -- start-up -------------------------------------------------------------------------
    def preload(self, modules: Iterable[str]) -> None:
        """Import these modules once in the forkserver too (before the first worker starts)."""
        self._preload += [m for m in modules if m and m != "__main__" and m not in self._preload]

    def start(self, wait: bool = True) -> float:
        """Start every worker (done by the first submit otherwise); returns the seconds until all were ready."""
        t0 = time.perf_counter()
        with self._lock:
            if self._closed:
                raise ConfigError("this process pool was shut down; build a new one.")
            if not self._threads:
                if self.context == "forkserver":
                    self._ctx.set_forkserver_preload(self._preload)
                self._slots = [_Worker(self._ctx, self._env(i)) for i in range(self.max_workers)]
                self._threads = [threading.Thread(target=self._serve, args=(i,), daemon=True,
                                                  name=f"nas-pool-{i}") for i in range(self.max_workers)]
                for t in self._threads:
                    t.start()
        if wait:
            for w in list(self._slots):
                if w is not None:
                    w.wait_ready(120)
        return time.perf_counter() - t0

    def _env(self, slot: int) -> dict[str, str]:
        return dict(self.envs[slot % len(self.envs)]) if self.envs else {}

    # -- calls ----------------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if not self._threads:
            self.start(wait=False)
        fut: Future = Future()
        self._queue.put((fut, fn, args, kwargs))
        return fut

    def _serve(self, slot: int) -> None:
        """One slot: take a call, run it on this slot's worker, replace the worker if it died."""
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args, kwargs = item
            if not fut.set_running_or_notify_cancel():
                continue
            with self._lock:
                worker = self._slots[slot]
                if worker is None or self._closed:
                    fut.set_exception(TrialStopped("the process pool was shut down"))
                    continue
                if not worker.proc.is_alive():  # died while idle: replace it, the call is not to blame
                    self.deaths += 1
                    worker.close(kill=True)
                    worker = self._slots[slot] = _Worker(self._ctx, self._env(slot))
                worker.future = fut
            reply = self._call(worker, fn, args, kwargs)
            with self._lock:
                worker.future = None
                if reply is None:  # the worker died or was stopped: a fresh one takes the slot
                    self.deaths += 1
                    code = worker.proc.exitcode
                    err: Exception = TrialStopped("stopped") if worker.stopped else WorkerDied(
                        f"worker process {worker.proc.pid} died (exit code {code})")
                    worker.close(kill=True)
                    self._slots[slot] = None if self._closed else _Worker(self._ctx, self._env(slot))
                    fut.set_exception(err)
                    continue
            kind, value = reply
            if kind == "ok":
                fut.set_result(value)
            else:
                fut.set_exception(value if isinstance(value, BaseException) else RuntimeError(str(value)))

    @staticmethod
    def _call(worker: _Worker, fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, Any] | None:
        """The worker's reply, or None when it died (or its pipe was closed by a shutdown)."""
        try:
            if not worker.wait_ready():
                return None
            try:
                worker.conn.send((fn, args, kwargs))
            except (OSError, ValueError):
                return None
            except Exception as err:  # noqa: BLE001 - the call does not pickle: its own error
                return "error", err
            wait_ready([worker.conn, worker.proc.sentinel])
            if worker.conn.poll():
                try:
                    return worker.conn.recv()
                except (EOFError, OSError):
                    raise
                except Exception as err:  # noqa: BLE001 - a reply this process cannot unpickle
                    return "error", err
        except (EOFError, OSError, ValueError):
            pass
        return None

    def stop(self, future: Future) -> bool:
        """Kill the worker running ``future`` (a fresh one replaces it); cancel it if not started."""
        if future.cancel():
            return True
        with self._lock:
            for w in self._slots:
                if w is not None and w.future is future and not future.done():
                    w.stopped = True
                    w.proc.kill()
                    return True
        return False

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (empty before the first trial)."""
        with self._lock:
            return [w.proc.pid for w in self._slots if w is not None and w.proc.is_alive()]

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers: running calls are killed, queued ones cancelled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            slots, self._slots = self._slots, [None] * len(self._slots)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for w in slots:
            if w is not None:
                w.close(kill=w.future is not None)
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join(10)

    def __repr__(self) -> str:
        return f"ProcessPoolExecutor(max_workers={self.max_workers}, context={self.context!r})"


def _worker_envs(devices: Sequence[str] | None, gpus_per_trial: int | None) -> list[dict[str, str]]:
    """The environment of each worker's device: ``CUDA_VISIBLE_DEVICES`` naming only its GPUs."""
    if devices is not None and gpus_per_trial is not None:
        raise ConfigError("executor: give devices (e.g. ['cuda:0', 'cuda:1']) or gpus_per_trial, not both.")
    visible = [d for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()] or None
    if gpus_per_trial is not None:
        if not isinstance(gpus_per_trial, int) or isinstance(gpus_per_trial, bool) or gpus_per_trial < 1:
            raise ConfigError(f"executor gpus_per_trial must be a positive integer, got {gpus_per_trial!r}.")
        import torch

        count = torch.cuda.device_count()
        if count < gpus_per_trial:
            raise ConfigError(f"executor gpus_per_trial={gpus_per_trial} but {count} GPU(s) are visible; use fewer "
                              "GPUs per trial, or the in-process executor on CPU.")
        ids = [(visible or [str(i) for i in range(count)])[i] for i in range(count)]
        groups = [ids[i:i + gpus_per_trial] for i in range(0, count - gpus_per_trial + 1, gpus_per_trial)]
        return [{"CUDA_VISIBLE_DEVICES": ",".join(g), "NAS_TRIAL_DEVICE": "cuda:0"} for g in groups]
    if devices is None:
        return []
    if isinstance(devices, str) or not devices:
        raise ConfigError(f"executor devices must be a non-empty list such as ['cuda:0', 'cuda:1'], got {devices!r}.")
    envs = []
    for d in devices:
        if d == "cpu":
            envs.append({"CUDA_VISIBLE_DEVICES": "", "NAS_TRIAL_DEVICE": "cpu"})
            continue
        kind, _, index = str(d).partition(":")
        if kind != "cuda" or not index.isdigit():
            raise ConfigError(f"executor devices: {d!r} is not a device; write 'cuda:N' (N: a GPU index) or 'cpu'.")
        gpu = int(index)
        if visible is not None and gpu >= len(visible):
            raise ConfigError(f"executor devices: {d!r} but CUDA_VISIBLE_DEVICES={','.join(visible)} shows only "
                              f"{len(visible)} GPU(s) (cuda:0 to cuda:{len(visible) - 1}).")
        envs.append({"CUDA_VISIBLE_DEVICES": visible[gpu] if visible else str(gpu), "NAS_TRIAL_DEVICE": "cuda:0"})
    return envs

"""The device agent's measurements run in a child process that can be stopped.

A model sent to the agent can run for as long as it likes (a ``Loop`` of 10^12
iterations) or exhaust memory; inside the server process nothing could stop it and it
would hold the measurement lock for good. :class:`MeasureWorker` keeps one child process
(started with ``spawn``, reused from one measurement to the next), sends it each job and
waits at most the job's deadline: past it, the child is killed (SIGKILL) and a fresh one
is started for the next job. A child that dies (killed for memory, crashed in native code)
is reported and replaced the same way.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from typing import Any

from nas_profiler_device.errors import MeasurementError

__all__ = ["MeasureWorker", "MeasurementTimeout"]


class MeasurementTimeout(MeasurementError):
    """A measurement ran past its deadline and its process was killed."""


def _exit_with_parent(parent_pid: int, every_s: float = 0.5) -> None:
    """Exit this process as soon as the agent is gone (even killed by SIGKILL in the middle of a measurement).

    A watching thread, not ``PR_SET_PDEATHSIG``: that signal follows the parent *thread*,
    and the agent starts this process from a request's thread, which ends with the request.
    """
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-agent", daemon=True).start()


def _serve(conn: Any, parent_pid: int) -> None:  # pragma: no cover - runs in the child process
    """The child's loop: receive a job, measure, send back the measurement or the error text."""
    _exit_with_parent(parent_pid)
    from nas_profiler_device.measure import measure_latency
    from nas_profiler_device.reference import SpeedReference

    ref: SpeedReference | None = None
    conn.send({"ready": True})
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            reference = None
            if job.get("reference_onnx") is not None:
                if ref is None or ref.onnx != job["reference_onnx"]:
                    ref = SpeedReference(onnx=job["reference_onnx"])
                ref.baselines = dict(job.get("baselines", {}))
                reference = ref
            m = measure_latency(job["onnx"], [tuple(s) for s in job["input_shapes"]], backend="onnxruntime",
                                repeats=job["repeats"], warmup=job["warmup"], threads=job["threads"],
                                max_time_s=job["max_time_s"], clock=job["clock"], reference=reference)
            conn.send({"measurement": m.to_dict(), "baselines": dict(reference.baselines) if reference else {}})
        except MeasurementError as err:
            conn.send({"error": str(err)})
        except Exception as err:  # noqa: BLE001 - every failure is an answer, never a dead child
            conn.send({"error": f"the model could not be measured ({type(err).__name__}: {err})."})


class MeasureWorker:
    """One reusable child process for measurements; :meth:`run` a job with a deadline."""

    def __init__(self, startup_timeout_s: float = 180.0) -> None:
        self.startup_timeout_s = float(startup_timeout_s)
        self._ctx = mp.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None
        self._guard = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def start(self) -> None:
        """Start the child now (otherwise the first :meth:`run` does) and wait until it is ready."""
        with self._guard:
            self._ensure()

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._stop()
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child, os.getpid()), name="nas-measure", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        if not parent.poll(self.startup_timeout_s):
            self._stop()
            raise MeasurementError(f"the measurement process did not start within {self.startup_timeout_s:.0f} s.")
        try:
            parent.recv()
        except EOFError:
            code = proc.exitcode
            self._stop()
            raise MeasurementError(f"the measurement process exited while starting (exit code {code}).") from None

    def run(self, job: dict[str, Any], deadline_s: float) -> dict[str, Any]:
        """Measure ``job`` in the child; ``{"measurement": ..., "baselines": ...}`` or an error.

        Raises :class:`MeasurementTimeout` when the job takes longer than ``deadline_s`` (the
        child is killed) and :class:`MeasurementError` when it fails or its process dies.
        """
        with self._guard:
            self._ensure()
            start = time.monotonic()
            try:
                self._conn.send(job)
            except OSError:  # the child died since the last job (killed from outside)
                self._stop()
                self._ensure()
                self._conn.send(job)
            if not self._conn.poll(deadline_s):
                self._stop()
                raise MeasurementTimeout(
                    f"the measurement was stopped after {time.monotonic() - start:.1f} s: it ran past the agent's "
                    f"limit of {deadline_s:g} s per measurement (--max-measure-s). Send a smaller model, fewer "
                    "repeats and warmup runs, or start the agent with a larger --max-measure-s.")
            try:
                reply = self._conn.recv()
            except (EOFError, OSError):
                self._proc.join(5)
                code = self._proc.exitcode
                self._stop()
                how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exit code {code}"
                raise MeasurementError(
                    f"the measurement process died while measuring this model ({how}; out of memory, or a crash in "
                    "ONNX Runtime). The agent goes on with a fresh process.") from None
        if "error" in reply:
            raise MeasurementError(reply["error"])
        return reply

    def _stop(self) -> None:
        proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def close(self) -> None:
        """Kill the child process (the agent is shutting down); a measurement in progress fails."""
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.kill()
        with self._guard:
            self._stop()

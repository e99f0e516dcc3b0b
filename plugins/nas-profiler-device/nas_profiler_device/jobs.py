"""Jobs for :func:`~nas_profiler_device.protocol.measure_interleaved`: what one visit times.

* :class:`LocalJob`: a module (or ONNX model) run on this machine's CPU, each visit followed
  by two runs of the speed reference, the second timed (the first puts the reference back
  into the caches: timed cold, it ran about 8 % slower after a whole model than after a
  small block, which made whole models look 8 % faster than the blocks they are made of);
* :class:`AgentJob`: a model exported once and timed on a device agent, one request per visit;
* :class:`MeasurerJob`: any :class:`~nas_profiler_device.measurer.Measurer` (a device agent,
  a custom measuring function): one measurement per visit, corrected on its own side.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Sequence

import torch
from torch import nn

from nas_core.threads import torch_threads
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.measure import BACKENDS, CLOCKS
from nas_profiler_device.onnx_backend import as_tensors, export_onnx, ort_feeds, ort_session, warnings_quiet
from nas_profiler_device.reference import SpeedReference

__all__ = ["LocalJob", "MeasurerJob", "AgentJob"]


class LocalJob:
    """Times ``model_or_onnx`` on ``inputs`` here (``backend`` eager, torchscript or onnxruntime; CPU)."""

    def __init__(self, model_or_onnx: nn.Module | bytes, inputs: Any, *, backend: str = "onnxruntime",
                 threads: int = 1, clock: str = "wall", reference: SpeedReference | None = None) -> None:
        if backend not in BACKENDS:
            raise MeasurementError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        if clock not in CLOCKS:
            raise MeasurementError(f"unknown clock {clock!r}; choose 'wall' or 'cpu'.")
        if clock == "cpu" and threads != 1:
            raise MeasurementError("clock='cpu' times the calling thread, so it needs threads=1; use clock='wall'.")
        self.backend, self.threads, self.clock = backend, threads, clock
        self._now = time.thread_time_ns if clock == "cpu" else time.perf_counter_ns
        self._torch = backend != "onnxruntime"
        name = type(model_or_onnx).__name__
        if backend == "onnxruntime":
            if isinstance(model_or_onnx, nn.Module):
                tensors = as_tensors(inputs)
                model_or_onnx, inputs = export_onnx(model_or_onnx, tensors), tensors
            session = ort_session(bytes(model_or_onnx), threads)
            feeds = ort_feeds(session, inputs)
            self._run: Callable[[], Any] = lambda: session.run(None, feeds)
        else:
            if not isinstance(model_or_onnx, nn.Module):
                raise MeasurementError(f"backend {backend!r} measures nn.Modules; an ONNX model needs "
                                       "backend='onnxruntime'.")
            tensors, model = tuple(as_tensors(inputs)), model_or_onnx.eval()
            if backend == "torchscript":
                with torch_threads(threads), torch.inference_mode(), warnings_quiet():
                    try:
                        model = torch.jit.optimize_for_inference(torch.jit.trace(model, tensors).eval())
                    except Exception as err:  # noqa: BLE001
                        raise MeasurementError(f"torch.jit.trace failed on {name} ({type(err).__name__}: {err}); "
                                               "use backend='eager'.") from err
            self._run = lambda: model(*tensors)
        self._ref: Callable[[], Any] | None = None
        self.reference_key: str | None = None
        if reference is not None:
            self._ref = reference.runner(backend, threads)
            self.reference_key = reference.key(backend, threads, clock)
        try:
            self.warm(1)
        except Exception as err:  # noqa: BLE001
            raise MeasurementError(f"{name} failed to run ({type(err).__name__}: {err}).") from err

    def _ctx(self) -> contextlib.AbstractContextManager:
        if not self._torch:
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        stack.enter_context(torch_threads(self.threads))
        stack.enter_context(torch.inference_mode())
        return stack

    def warm(self, runs: int) -> None:
        with self._ctx():
            for _ in range(runs):
                self._run()
                if self._ref is not None:
                    self._ref()

    def visit(self, runs: int) -> tuple[list[float], float | None]:
        now, run = self._now, self._run
        times = []
        with self._ctx():
            for _ in range(runs):
                t0 = now()
                run()
                times.append((now() - t0) / 1e6)
            ref = None
            if self._ref is not None:
                self._ref()  # untimed: brings the reference back into the caches, whatever ran before it
                t0 = now()
                self._ref()
                ref = (now() - t0) / 1e6
        return times, ref


class MeasurerJob:
    """One ``measurer.measure(module, inputs)`` of the visit's runs per visit (its median; a remote
    agent applies the speed reference on its side). Warm-up is the measurer's own."""

    reference_key = None

    def __init__(self, measurer: Any, module: nn.Module, inputs: Sequence[torch.Tensor]) -> None:
        self.measurer, self.module, self.inputs = measurer, module, list(inputs)

    def warm(self, runs: int) -> None:
        return None

    def visit(self, runs: int) -> tuple[list[float], float | None]:
        saved = getattr(self.measurer, "repeats", None)
        try:
            if isinstance(saved, int):  # this visit's share of the runs, not all of them
                self.measurer.repeats = max(runs, 1)
            return [float(self.measurer.measure(self.module, self.inputs).median_ms)], None
        finally:
            if isinstance(saved, int):
                self.measurer.repeats = saved


class AgentJob:
    """A model on a device agent: exported to ONNX once; each visit is one request for ``runs``
    runs (the agent times the speed reference after every run and corrects on its side)."""

    reference_key = None

    def __init__(self, measurer: Any, module: nn.Module, inputs: Sequence[torch.Tensor]) -> None:
        self.measurer = measurer
        self.onnx = export_onnx(module, list(inputs))
        self.shapes = [list(t.shape) for t in inputs]

    def _request(self, runs: int, warmup: int) -> float:
        m = self.measurer
        return float(m.client.measure(self.onnx, self.shapes, repeats=runs, warmup=warmup, threads=m.threads,
                                      clock=m.clock, reference=m.reference).median_ms)

    def warm(self, runs: int) -> None:
        if runs > 0:
            self._request(1, runs)

    def visit(self, runs: int) -> tuple[list[float], float | None]:
        return [self._request(runs, 0)], None

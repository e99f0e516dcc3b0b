"""Where measurements are taken: the local machine or a remote device agent."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from nas_profiler_device.agent_client import AgentClient
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.reference import SpeedReference
from nas_profiler_device.jobs import AgentJob, LocalJob, MeasurerJob
from nas_profiler_device.protocol import JobFigure, MeasurementProtocol, measure_interleaved
from nas_profiler_device.measure import BACKENDS, Measurement, device_description, export_onnx, library_versions, \
    measure_latency

__all__ = ["Measurer", "LocalMeasurer", "RemoteMeasurer", "CallableMeasurer"]


class Measurer:
    """Measures modules on fixed inputs with fixed settings; knows its device and versions."""

    backend: str
    threads: int
    repeats: int
    warmup: int
    #: when set, every figure is corrected for the device's speed drifting (see reference.py)
    reference: SpeedReference | None = None

    def measure(self, module: nn.Module, inputs: Sequence[torch.Tensor]) -> Measurement:
        raise NotImplementedError

    def protocol(self) -> MeasurementProtocol:
        """The interleaved protocol matching this measurer's ``repeats`` and ``warmup``."""
        return MeasurementProtocol.for_repeats(max(2, int(self.repeats)), warmup=int(self.warmup))

    def jobs(self, items: Sequence[tuple[nn.Module, Sequence[torch.Tensor]]]) -> list[Any]:
        """One protocol job per (module, inputs); measurers that can time runs themselves override it."""
        return [MeasurerJob(self, module, inputs) for module, inputs in items]

    def measure_interleaved(self, items: Sequence[tuple[nn.Module, Sequence[torch.Tensor]]],
                            protocol: MeasurementProtocol | None = None) -> list[JobFigure]:
        """Measure every (module, inputs) under the shared protocol (interleaved rounds, speed
        reference, outliers rejected); see :mod:`nas_profiler_device.protocol`."""
        protocol = protocol or self.protocol()
        baselines = self.reference.baselines if self.reference is not None else None
        return measure_interleaved(self.jobs(items), protocol, baselines)

    def identity(self) -> dict[str, Any]:
        """What a latency figure depends on: device, backend, threads, library versions."""
        raise NotImplementedError


class LocalMeasurer(Measurer):
    """Measures on this machine with :func:`measure_latency`."""

    def __init__(self, backend: str = "onnxruntime", threads: int = 1, repeats: int = 30, warmup: int = 5,
                 device: str = "cpu", clock: str = "wall") -> None:
        if backend not in BACKENDS:
            raise MeasurementError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        self.backend, self.threads, self.repeats, self.warmup, self.device = backend, threads, repeats, warmup, device
        self.clock = clock

    def measure(self, module: nn.Module, inputs: Sequence[torch.Tensor]) -> Measurement:
        return measure_latency(module, list(inputs), backend=self.backend, repeats=self.repeats, warmup=self.warmup,
                               threads=self.threads, device=self.device, clock=self.clock, reference=self.reference)

    def jobs(self, items: Sequence[tuple[nn.Module, Sequence[torch.Tensor]]]) -> list[Any]:
        if self.device != "cpu":  # CUDA: timed with CUDA events by measure_latency, one figure per visit
            return super().jobs(items)
        return [LocalJob(module, list(inputs), backend=self.backend, threads=self.threads, clock=self.clock,
                         reference=self.reference) for module, inputs in items]

    def identity(self) -> dict[str, Any]:
        return {"device": device_description(self.device), "backend": self.backend, "threads": self.threads,
                "versions": library_versions(), "where": "local", "clock": self.clock}


class RemoteMeasurer(Measurer):
    """Exports modules to ONNX here and measures them on a device agent (ONNX Runtime there)."""

    def __init__(self, client: AgentClient, threads: int = 1, repeats: int = 30, warmup: int = 5,
                 clock: str = "wall") -> None:
        self.client, self.backend, self.clock = client, "onnxruntime", clock
        self.threads, self.repeats, self.warmup = threads, repeats, warmup
        self._info: dict[str, Any] | None = None

    def measure(self, module: nn.Module, inputs: Sequence[torch.Tensor]) -> Measurement:
        onnx_bytes = export_onnx(module, list(inputs))
        return self.client.measure(onnx_bytes, [list(t.shape) for t in inputs], repeats=self.repeats,
                                   warmup=self.warmup, threads=self.threads, clock=self.clock, reference=self.reference)

    def jobs(self, items: Sequence[tuple[nn.Module, Sequence[torch.Tensor]]]) -> list[Any]:
        return [AgentJob(self, module, inputs) for module, inputs in items]

    def identity(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self.client.info()
        return {"device": self._info.get("device", "?"), "backend": self.backend, "threads": self.threads,
                "versions": self._info.get("versions", {}), "where": "agent", "clock": self.clock}


class CallableMeasurer(Measurer):
    """Your own ``measure(module, input_shapes) -> {"median_ms": ..., ...}`` as a Measurer."""

    backend = "custom"

    def __init__(self, measure: Callable[[nn.Module, list], Mapping[str, Any]], repeats: int = 2,
                 warmup: int = 0) -> None:
        self.function, self.repeats, self.warmup, self.threads = measure, repeats, warmup, 1

    def measure(self, module: nn.Module, inputs: Sequence[torch.Tensor]) -> Measurement:
        shapes = [tuple(t.shape) for t in inputs]
        out = dict(self.function(module, shapes))
        if "median_ms" not in out:
            raise MeasurementError(f"a measure function must return a mapping with 'median_ms'; got {sorted(out)}.")
        return Measurement(float(out["median_ms"]), float(out.get("spread", 0.0)), 1, 0, "custom",
                           str(out.get("device", "custom")), 1, int(shapes[0][0]) if shapes and shapes[0] else 1,
                           [list(s) for s in shapes])

    def identity(self) -> dict[str, Any]:
        return {"device": "custom measure function", "backend": "custom", "threads": 1, "versions": {},
                "where": "custom", "clock": "custom"}

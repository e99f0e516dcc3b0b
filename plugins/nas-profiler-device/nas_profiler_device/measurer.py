"""Where measurements are taken: the local machine or a remote device agent."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from nas_profiler_device.agent_client import AgentClient
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.reference import SpeedReference
from nas_profiler_device.measure import BACKENDS, Measurement, device_description, export_onnx, library_versions, \
    measure_latency

__all__ = ["Measurer", "LocalMeasurer", "RemoteMeasurer"]


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

    def identity(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self.client.info()
        return {"device": self._info.get("device", "?"), "backend": self.backend, "threads": self.threads,
                "versions": self._info.get("versions", {}), "where": "agent", "clock": self.clock}

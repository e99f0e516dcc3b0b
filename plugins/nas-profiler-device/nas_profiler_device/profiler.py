"""DeviceProfiler: measured latency (ms) of frozen architectures, through a per-block lookup table."""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from nas_core.errors import ProfilerError
from nas_core.space import search_space
from nas_core.shapes import CostModelProfiler, trace

from nas_profiler_device.agent_client import AgentClient
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.lut import (
    LatencyTable, compile_cost_model, default_cache_dir, load_table, lut_path, space_fingerprint,
)
from nas_profiler_device.lut_build import build_table
from nas_profiler_device.measure import BACKENDS, Measurement, as_tensors
from nas_profiler_device.measurer import LocalMeasurer, Measurer, RemoteMeasurer
from nas_profiler_device.protocol import MeasurementProtocol
from nas_profiler_device.reference import SpeedReference
from nas_profiler_device.units import find_units

__all__ = ["DeviceProfiler"]

log = logging.getLogger("nas_profiler_device")
MODES = ("lut", "measure")


class DeviceProfiler(CostModelProfiler):
    """Latency in ms of a sample on a real device (this machine, or a device agent at ``url``).

    ``mode="lut"`` (default): a per-block lookup table is built once per space, input shape,
    device, backend, thread count and library versions (every LayerChoice candidate, Repeat
    block, mutable layer and fixed part measured in its input-shape context), calibrated by
    a linear fit on ``calibration`` measured random architectures, stored as JSON under
    ``cache_dir`` and reused; ``profile`` is then a lookup and ``expectation`` is exact.
    ``mode="measure"``: every ``profile`` measures the frozen architecture end to end.

    ``backend``: ``"eager"``, ``"torchscript"`` or ``"onnxruntime"``; with ``url`` (and
    ``token``, or ``NAS_DEVICE_TOKEN``) measurements run on the agent's ONNX Runtime.
    ``device="cuda"`` measures eager/TorchScript on the local GPU. ``clock="cpu"`` (one
    thread) times the inference thread's CPU time: steadier on a busy machine.
    ``speed_reference=True`` (CPU, the default): every run is followed by a run of the
    space's default architecture and figures are reported at that reference's baseline
    speed (kept with the table), so the device's speed drifting (thermal throttling, busy
    neighbours on a VM) does not move them; see ``nas_profiler_device.reference``.
    Blocks and calibration architectures are measured interleaved under ``protocol``
    (default: ``MeasurementProtocol.for_repeats(repeats, warmup)``; see
    ``nas_profiler_device.protocol``); when the even and odd rounds would give tables more
    than 5 % apart, the build raises ``UnstableMeasurementError`` with what to do
    (``on_unstable="warn"``: keep the table, with a loud warning).
    """

    unit = "ms"
    metric = "latency"

    def __init__(
        self,
        model_space: nn.Module,
        dummy_input: Any,
        *,
        backend: str = "onnxruntime",
        url: str | None = None,
        token: str | None = None,
        threads: int = 1,
        device: str = "cpu",
        clock: str = "wall",
        repeats: int = 30,
        warmup: int = 5,
        calibration: int = 30,
        mode: str = "lut",
        cache_dir: str | os.PathLike | None = None,
        rebuild: bool = False,
        timeout: float = 120.0,
        seed: int = 0,
        progress: bool = True,
        measurer: Measurer | None = None,
        speed_reference: bool = True,
        protocol: MeasurementProtocol | None = None,
        on_unstable: str = "raise",
    ) -> None:
        if mode not in MODES:
            raise ProfilerError(f"mode must be 'lut' (lookup table) or 'measure' (end to end each time), got {mode!r}.")
        if backend not in BACKENDS:
            raise ProfilerError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
        if isinstance(calibration, bool) or not isinstance(calibration, int) or calibration < 0:
            raise ProfilerError(f"calibration must be a number of architectures >= 0, got {calibration!r}.")
        if dummy_input is None:
            raise ProfilerError("DeviceProfiler needs a dummy input (a tensor, or a shape such as [1, 3, 96, 96]).")
        if isinstance(dummy_input, (list, tuple)) and dummy_input and all(isinstance(d, int) for d in dummy_input):
            dummy_input = torch.zeros(*dummy_input)
        self.model = model_space
        self.space = search_space(model_space)
        self.inputs = as_tensors(dummy_input)
        self.mode = mode
        if measurer is None:
            if url is not None:
                if backend != "onnxruntime":
                    raise ProfilerError(f"the device agent measures ONNX models with onnxruntime; backend={backend!r} "
                                        "cannot be used with url=. Use backend='onnxruntime'.")
                token = token or os.environ.get("NAS_DEVICE_TOKEN")
                if not token:
                    raise ProfilerError(f"url={url!r} needs the agent's token: pass token= or set NAS_DEVICE_TOKEN.")
                measurer = RemoteMeasurer(AgentClient(url, token, timeout=timeout), threads, repeats, warmup, clock)
            else:
                measurer = LocalMeasurer(backend, threads, repeats, warmup, device, clock)
        if speed_reference and device == "cpu" and measurer.reference is None:
            measurer.reference = SpeedReference(self.space.freeze(self.space.default()).eval(), self.inputs)
        self.measurer = measurer
        self.protocol = protocol or measurer.protocol()
        self.on_unstable = on_unstable
        self.table: LatencyTable | None = None
        self.cache_file: Path | None = None
        self.trace = None
        if mode == "lut":
            self._build(Path(cache_dir) if cache_dir is not None else default_cache_dir(), rebuild, calibration, seed,
                        progress)

    def fingerprint(self) -> dict[str, Any]:
        """What a resumed search must find unchanged (``nas_core.experiment.fingerprint``): how figures are taken.

        Not whether the table was just built or loaded (``rebuilt``), which differs from one run to the next.
        """
        m = self.measurer
        where = getattr(getattr(m, "client", None), "url", None) or getattr(m, "device", None)
        return {"mode": self.mode, "measurer": type(m).__name__, "where": where, "backend": m.backend,
                "threads": m.threads, "repeats": m.repeats, "warmup": m.warmup, "clock": getattr(m, "clock", "wall"),
                "speed_reference": m.reference is not None, "input_shapes": [list(t.shape) for t in self.inputs]}

    # -- the lookup table ----------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        ident = self.measurer.identity()
        return {"space": space_fingerprint(self.model, self.space), "input_shapes": [list(t.shape) for t in self.inputs],
                "batch": int(self.inputs[0].shape[0]) if self.inputs[0].dim() else 1,
                "device": ident["device"], "backend": ident["backend"], "threads": ident["threads"],
                "versions": ident["versions"], "clock": ident.get("clock", "wall"), "repeats": self.measurer.repeats,
                "warmup": self.measurer.warmup, "speed_reference": self.measurer.reference is not None}

    def _build(self, cache_dir: Path, rebuild: bool, calibration: int, seed: int, progress: bool) -> None:
        self.trace = trace(self.model, self.inputs[0] if len(self.inputs) == 1 else tuple(self.inputs))
        self.units = find_units(self.model, self.trace, self.space)
        meta = self._meta()
        self.cache_file = lut_path(cache_dir, meta)
        table, why = (None, "rebuild=True") if rebuild else load_table(self.cache_file, meta, self.units)
        self.rebuilt = table is None
        if table is None:
            log.info("building the latency table %s (%s)", self.cache_file, why)
            t0 = time.perf_counter()
            table = build_table(self.model, self.space, self.units, self.measurer,
                                {**meta, "created": time.strftime("%Y-%m-%dT%H:%M:%S")},
                                lambda s: self.space.freeze(self.space.validate(s)), self.inputs, calibration, seed,
                                progress, self.protocol, self.on_unstable)
            table.meta["build_s"] = round(time.perf_counter() - t0, 2)
            if self.measurer.reference is not None:
                table.meta["reference_baselines"] = dict(self.measurer.reference.baselines)
            table.save(self.cache_file)
        elif self.measurer.reference is not None:  # later figures at the speed the table was built at
            self.measurer.reference.baselines.update(table.meta.get("reference_baselines", {}))
        self.table = table
        self.cost_model = compile_cost_model(self.space, self.units, table)

    # -- measuring -----------------------------------------------------------------------------
    def measure(self, sample: Mapping[str, Any]) -> Measurement:
        """Measure the frozen architecture of ``sample`` end to end (no lookup table)."""
        sample = self.space.validate(sample)
        frozen = self.space.freeze(sample).eval()
        try:
            return self.measurer.measure(frozen, self.inputs)
        except MeasurementError as err:
            raise MeasurementError(f"sample {sample}: {err}") from err

    def profile(self, sample: Mapping[str, Any]) -> float:
        if self.mode == "measure":
            return self.measure(sample).median_ms
        return super().profile(sample)

    def profile_batch(self, samples: Any) -> list[float]:
        if self.mode == "measure":
            return [self.profile(s) for s in samples]
        return super().profile_batch(samples)

    def expectation(self, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        if self.mode == "measure":
            raise ProfilerError("expectation needs the lookup table: build the DeviceProfiler with mode='lut'.")
        return super().expectation(probs)

    def __repr__(self) -> str:
        return (f"DeviceProfiler(backend={self.measurer.backend!r}, threads={self.measurer.threads}, mode={self.mode!r}"
                + (f", table={str(self.cache_file)!r}" if self.cache_file else "") + ")")

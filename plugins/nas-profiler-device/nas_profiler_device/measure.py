"""Measure the inference latency of a module or an ONNX model on one backend.

This is the public measurement API of the device profiler (also used by other latency
profilers)::

    from nas_profiler_device.measure import measure_latency
    m = measure_latency(model, torch.randn(1, 3, 64, 64), backend="onnxruntime", repeats=50, warmup=10, threads=1)
    m.median_ms, m.spread, m.to_dict()

Backends: ``"eager"`` (PyTorch), ``"torchscript"`` (``torch.jit.trace``), ``"onnxruntime"``
(CPU execution provider). ``device="cuda"`` runs eager/TorchScript on the local GPU, timed
with CUDA events. Every figure carries the backend, device, thread count, batch size and
library versions it was taken with.
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from nas_core.threads import torch_threads  # noqa: F401 - also re-exported for callers
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.onnx_backend import (  # noqa: F401 - as_tensors, export_onnx: re-exported
    Inputs, as_tensors, export_onnx, ort_feeds, ort_session, warnings_quiet,
)
from nas_profiler_device.reference import SpeedReference

__all__ = [
    "BACKENDS",
    "Measurement",
    "measure_latency",
    "export_onnx",
    "library_versions",
    "device_description",
    "summarize",
]

BACKENDS = ("eager", "torchscript", "onnxruntime")
DEVICES = ("cpu", "cuda")
#: a measurement stops early (after at least 3 runs) once it has taken this long
DEFAULT_MAX_TIME_S = 60.0

@dataclass
class Measurement:
    """One latency figure and everything it depends on. Times in milliseconds."""

    median_ms: float
    spread: float  # interquartile range / median (0.02 = 2 %)
    repeats: int
    warmup: int
    backend: str
    device: str
    threads: int
    batch: int
    input_shapes: list[list[int]]
    versions: dict[str, str] = field(default_factory=dict)
    clock: str = "wall"
    min_ms: float = float("nan")
    mean_ms: float = float("nan")
    q1_ms: float = float("nan")
    q3_ms: float = float("nan")
    unit: str = "ms"
    metric: str = "latency"
    #: with a speed reference: the reference's baseline, the uncorrected median, and the
    #: device's speed during the measurement relative to the baseline (0.9: 10 % slower)
    reference_ms: float | None = None
    raw_median_ms: float | None = None
    speed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        missing = [k for k in ("median_ms", "spread", "repeats", "warmup", "backend", "device", "threads", "batch",
                               "input_shapes") if k not in known]
        if missing:
            raise MeasurementError(f"a measurement record lacks {missing}; got keys {sorted(data)}.")
        return cls(**known)

    def __str__(self) -> str:
        return (f"{self.median_ms:.3f} ms (IQR/median {self.spread:.1%}, {self.repeats} runs, {self.backend} on "
                f"{self.device}, {self.threads} thread(s), batch {self.batch})")


# -- environment -----------------------------------------------------------------------------------
def library_versions() -> dict[str, str]:
    """Versions of the libraries a latency figure depends on."""
    out = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}
    for name in ("onnxruntime", "onnx"):
        try:
            mod = __import__(name)
            out[name] = getattr(mod, "__version__", "?")
        except ImportError:
            pass
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def device_description(device: str = "cpu") -> str:
    """A readable identity of the measuring hardware, e.g. ``"cpu: AMD EPYC 7B13 x2 (x86_64, Linux)"``."""
    if device == "cuda":
        if not torch.cuda.is_available():
            raise MeasurementError("device='cuda' was asked for but torch.cuda.is_available() is False; use device='cpu'.")
        return f"cuda: {torch.cuda.get_device_name()} (torch CUDA {torch.version.cuda})"
    return f"cpu: {_cpu_model()} x{os.cpu_count()} ({platform.machine()}, {platform.system()})"


# -- statistics ------------------------------------------------------------------------------------
def summarize(times_ms: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, IQR/median spread, min and mean of a list of run times."""
    if not times_ms:
        raise MeasurementError("no run was timed; use repeats >= 1.")
    arr = np.asarray(times_ms, dtype=np.float64)
    q1, med, q3 = np.percentile(arr, [25, 50, 75])
    return {"median_ms": float(med), "q1_ms": float(q1), "q3_ms": float(q3),
            "spread": float((q3 - q1) / med) if med > 0 else 0.0, "min_ms": float(arr.min()), "mean_ms": float(arr.mean())}


# -- inputs ----------------------------------------------------------------------------------------
# -- timing ----------------------------------------------------------------------------------------
CLOCKS = ("wall", "cpu")


def _time_cpu(run: Callable[[], Any], repeats: int, warmup: int, max_time_s: float, clock: str = "wall",
              ref: Callable[[], Any] | None = None) -> tuple[list[float], list[float]]:
    """Times of ``repeats`` runs; with ``ref``, each run is followed by two runs of ``ref``, the second timed."""
    for _ in range(warmup):
        run()
        if ref is not None:
            ref()
    times: list[float] = []
    ref_times: list[float] = []
    now = time.thread_time_ns if clock == "cpu" else time.perf_counter_ns
    start = time.perf_counter()
    for i in range(repeats):
        t0 = now()
        run()
        t1 = now()
        times.append((t1 - t0) / 1e6)
        if ref is not None:
            ref()  # untimed: the reference back in the caches (see jobs.LocalJob)
            t2 = now()
            ref()
            ref_times.append((now() - t2) / 1e6)
        if i >= 2 and time.perf_counter() - start > max_time_s:
            break
    return times, ref_times


def _time_cpu_corrected(run: Callable[[], Any], repeats: int, warmup: int, max_time_s: float, clock: str,
                        reference: SpeedReference | None, backend: str, threads: int
                        ) -> tuple[list[float], dict[str, Any]]:
    """:func:`_time_cpu`, then, with a ``reference``, the times at its baseline speed (a backend's
    baseline is set by its first measurement) and the reference's figures for the Measurement."""
    if reference is None:
        return _time_cpu(run, repeats, warmup, max_time_s, clock)[0], {}
    times, ref_times = _time_cpu(run, repeats, warmup, max_time_s, clock, reference.runner(backend, threads))
    ref_median = float(statistics.median(ref_times))
    base = float(reference.baselines.setdefault(reference.key(backend, threads, clock), ref_median))
    corrected = [t * base / r for t, r in zip(times, ref_times)]
    return corrected, {"reference_ms": base, "raw_median_ms": float(statistics.median(times)),
                       "speed": base / ref_median}


def _time_cuda(run: Callable[[], Any], repeats: int, warmup: int, max_time_s: float) -> list[float]:
    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    times = []
    start = time.perf_counter()
    for i in range(repeats):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        run()
        end.record()
        end.synchronize()
        times.append(float(begin.elapsed_time(end)))
        if i >= 2 and time.perf_counter() - start > max_time_s:
            break
    return times


def measure_latency(
    model_or_onnx: nn.Module | bytes | str | os.PathLike,
    inputs: Inputs,
    *,
    backend: str = "onnxruntime",
    repeats: int = 50,
    warmup: int = 10,
    threads: int = 1,
    device: str = "cpu",
    max_time_s: float = DEFAULT_MAX_TIME_S,
    clock: str = "wall",
    reference: SpeedReference | None = None,
) -> Measurement:
    """Median latency of one forward pass of ``model_or_onnx`` on ``inputs``.

    ``model_or_onnx``: an ``nn.Module`` (any backend; exported for ``onnxruntime``), or an
    ONNX model as bytes or a file path (``onnxruntime`` only). ``inputs``: a tensor, a shape
    such as ``(1, 3, 64, 64)`` (seeded random data), or a list of them (a dict name -> tensor
    for ONNX models). ``warmup`` untimed runs, then ``repeats`` timed runs (stopping early,
    after at least 3, once ``max_time_s`` has passed); ``threads`` sets
    ``torch.set_num_threads`` or ONNX Runtime's intra-op threads. ``clock="wall"`` times
    each run with ``time.perf_counter``; ``clock="cpu"`` (``threads=1`` only) with the CPU
    time of the inference thread, which leaves out the time the OS gave to other processes:
    steadier figures on a busy machine, the same as wall time on an idle one.
    ``reference``: a :class:`~nas_profiler_device.reference.SpeedReference`; each run is
    followed by a run of the reference network and reported at the reference's baseline
    speed, so the device's speed drifting between measurements cancels out (CPU only).
    """
    if backend not in BACKENDS:
        raise MeasurementError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if device not in DEVICES:
        raise MeasurementError(f"unknown device {device!r}; choose 'cpu' or 'cuda'.")
    if clock not in CLOCKS:
        raise MeasurementError(f"unknown clock {clock!r}; choose 'wall' (elapsed time) or 'cpu' (thread CPU time).")
    if clock == "cpu" and (threads != 1 or device != "cpu"):
        raise MeasurementError("clock='cpu' times the calling thread, so it needs threads=1 and device='cpu'; use "
                               "clock='wall' for multi-threaded or CUDA measurements.")
    for name, v, lo in (("repeats", repeats, 1), ("warmup", warmup, 0), ("threads", threads, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise MeasurementError(f"{name} must be an integer >= {lo}, got {v!r}.")
    is_module = isinstance(model_or_onnx, nn.Module)
    if not is_module:
        if isinstance(model_or_onnx, (str, os.PathLike)):
            path = Path(model_or_onnx)
            if not path.is_file():
                raise MeasurementError(f"ONNX model file {str(path)!r} does not exist.")
            model_or_onnx = path.read_bytes()
        if not isinstance(model_or_onnx, (bytes, bytearray)):
            raise MeasurementError(
                f"model_or_onnx must be an nn.Module, ONNX bytes or an .onnx path, got {type(model_or_onnx).__name__}.")
        if backend != "onnxruntime":
            raise MeasurementError(f"an ONNX model can only be measured with backend='onnxruntime', not {backend!r}.")
    if device == "cuda" and reference is not None:
        raise MeasurementError("a speed reference corrects CPU measurements; pass reference=None with device='cuda' "
                               "(CUDA events time the GPU alone).")
    if device == "cuda" and backend == "onnxruntime":
        raise MeasurementError("device='cuda' is supported with the eager and torchscript backends; "
                               "onnxruntime runs on the CPU execution provider.")
    dev_name = device_description(device)
    extra: dict[str, Any] = {}  # the speed reference's figures (none on CUDA)

    if backend == "onnxruntime":
        if is_module:
            tensors = as_tensors(inputs)
            onnx_model = export_onnx(model_or_onnx, tensors)
            inputs = tensors
        else:
            onnx_model = bytes(model_or_onnx)
        session = ort_session(onnx_model, threads)
        feeds = ort_feeds(session, inputs)
        shapes = [list(v.shape) for v in feeds.values()]
        try:
            session.run(None, feeds)
        except Exception as err:  # noqa: BLE001
            raise MeasurementError(f"ONNX Runtime failed to run the model on inputs {shapes}: {err}") from err
        times, extra = _time_cpu_corrected(lambda: session.run(None, feeds), repeats, warmup, max_time_s, clock,
                                           reference, backend, threads)
    else:
        tensors = as_tensors(inputs)
        model = model_or_onnx.eval()
        if device == "cuda":
            model = model.to("cuda")
            tensors = [t.to("cuda") for t in tensors]
        shapes = [list(t.shape) for t in tensors]
        with torch_threads(threads), torch.inference_mode():
            if backend == "torchscript":
                try:
                    with warnings_quiet():
                        model = torch.jit.optimize_for_inference(torch.jit.trace(model, tuple(tensors)).eval()) \
                            if device == "cpu" else torch.jit.trace(model, tuple(tensors))
                except Exception as err:  # noqa: BLE001
                    raise MeasurementError(
                        f"torch.jit.trace failed on {type(model_or_onnx).__name__} ({type(err).__name__}: {err}); "
                        "use backend='eager'.") from err
            try:
                model(*tensors)
            except Exception as err:  # noqa: BLE001
                raise MeasurementError(
                    f"{type(model_or_onnx).__name__} failed to run on inputs {shapes}: {type(err).__name__}: {err}") from err
            if device == "cuda":
                times = _time_cuda(lambda: model(*tensors), repeats, warmup, max_time_s)
            else:
                times, extra = _time_cpu_corrected(lambda: model(*tensors), repeats, warmup, max_time_s, clock,
                                                   reference, backend, threads)
    stats = summarize(times)
    return Measurement(
        median_ms=stats["median_ms"], spread=stats["spread"], repeats=len(times), warmup=warmup, backend=backend,
        device=dev_name, threads=threads, batch=int(shapes[0][0]) if shapes and shapes[0] else 1,
        input_shapes=shapes, versions=library_versions(), clock=clock, min_ms=stats["min_ms"], mean_ms=stats["mean_ms"],
        q1_ms=stats["q1_ms"], q3_ms=stats["q3_ms"], **extra)

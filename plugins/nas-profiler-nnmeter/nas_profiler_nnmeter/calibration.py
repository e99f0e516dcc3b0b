"""Calibration of a predictor against whole models, and the builder's stability check.

nn-Meter predicts a model as the sum of its kernels' latencies; a real runtime adds a fixed
cost per model (the session call, copying the output) and runs kernels inside a model a
little faster or slower than alone (warm caches, fused neighbours). As nn-Meter's method
does, a few whole architectures are measured end to end, in the same interleaved pass as
the kernels, and ``measured ~= scale * kernel_sum + offset_ms`` is fitted (a robust line,
:func:`nas_profiler_device.protocol.fit_calibration`). The fit is stored beside the
predictor as ``calibration.json`` with the environment it was measured in, and
:class:`~nas_profiler_nnmeter.NnMeterProfiler` applies it.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import random
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from nas_profiler_device.protocol import MeasurementProtocol, StabilityReport, compare_builds, fit_calibration

from nas_profiler_nnmeter.errors import PredictorLoadError

__all__ = ["CALIBRATION_FILE", "write_calibration", "read_calibration", "kernel_sum", "split_half_report",
           "environment", "random_kernel_mixes"]

CALIBRATION_FILE = "calibration.json"


def environment(identity: Mapping[str, Any]) -> dict[str, Any]:
    """What the figures were measured with, and how busy the machine was."""
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = None
    return {**dict(identity), "load_average": load, "cpus": os.cpu_count(),
            "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def write_calibration(folder: Path, samples: Sequence[Mapping[str, Any]], kernel_sums_ms: Sequence[float],
                      measured_ms: Sequence[float], env: Mapping[str, Any], space: str) -> dict[str, Any]:
    """Fit the calibration and write ``calibration.json``; returns its content."""
    scale, offset = fit_calibration(kernel_sums_ms, measured_ms)
    data = {"scale": scale, "offset_ms": offset, "space": space, "environment": dict(env),
            "archs": [{"sample": dict(s), "kernel_sum_ms": float(k), "measured_ms": float(m)}
                      for s, k, m in zip(samples, kernel_sums_ms, measured_ms)]}
    (folder / CALIBRATION_FILE).write_text(json.dumps(data, indent=1, default=str))
    return data


def read_calibration(folder: Path) -> dict[str, Any] | None:
    """The folder's calibration (``scale``, ``offset_ms``...), or None when it has none."""
    path = Path(folder) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        float(data["scale"]), float(data["offset_ms"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PredictorLoadError(f"{path} is not a valid calibration ({type(err).__name__}: {err}); delete it "
                                 "(the predictor then sums kernels uncalibrated) or build the predictor again.") from err
    return data


def kernel_sum(regressors: Mapping[str, Any], kernels: Sequence[tuple[str, Sequence[float]]]) -> float:
    """Sum of the regressors' predictions for ``kernels`` [(kernel type, features), ...]."""
    by_type: dict[str, list[Sequence[float]]] = {}
    for name, feats in kernels:
        if name in regressors:
            by_type.setdefault(name, []).append(feats)
    return float(sum(regressors[n].predict(np.asarray(rows, dtype=np.float64)).sum() for n, rows in by_type.items()))


def split_half_report(halves: Sequence[Mapping[str, Any]], archs: Sequence[Sequence[tuple[str, Sequence[float]]]],
                      protocol: MeasurementProtocol,
                      calibration: tuple[Sequence[Sequence[tuple[str, Sequence[float]]]], Sequence[Sequence[float]]]
                      | None = None, overheads: Sequence[float] = (0.0, 0.0)) -> StabilityReport:
    """Predictions of ``archs`` by the two half-builds (regressors fitted on the even and on the odd
    rounds), each calibrated on its own half of the whole-model measurements when given
    (``(calibration archs' kernels, (measured even, measured odd))``), else plus the half's
    per-model call overhead (a model pays it once), compared."""
    preds = []
    for h, regs in enumerate(halves):
        scale, offset = 1.0, float(overheads[h])
        if calibration is not None:
            cal_kernels, measured = calibration
            scale, offset = fit_calibration([kernel_sum(regs, k) for k in cal_kernels], measured[h])
        preds.append([scale * kernel_sum(regs, a) + offset for a in archs])
    return compare_builds(preds[0], preds[1], protocol)


def random_kernel_mixes(kernels: Sequence[tuple[str, Sequence[float]]], archs: int, per_arch: int = 20,
                        seed: int = 0) -> list[list[tuple[str, Sequence[float]]]]:
    """Stand-in architectures when no space is given: random mixes of the measured kernels."""
    rng = random.Random(seed)
    return [[rng.choice(kernels) for _ in range(per_arch)] for _ in range(archs)]

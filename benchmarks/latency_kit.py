"""Shared figures of the latency benchmarks (device_latency.py, nnmeter_accuracy.py)."""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np
from scipy.stats import kendalltau

from nas_profiler_device.measurer import LocalMeasurer
from nas_profiler_device.protocol import MeasurementProtocol
from nas_profiler_device.reference import SpeedReference


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def accuracy(pred: Sequence[float], meas: Sequence[float]) -> dict[str, float]:
    """Share within +-10 %, RMSE, worst relative error, mean predicted/measured, Kendall's tau."""
    p, m = np.asarray(pred, float), np.asarray(meas, float)
    rel = p / m - 1.0
    return {"within_10pct": float(np.mean(np.abs(rel) <= 0.10)), "rmse_ms": math.sqrt(float(np.mean((p - m) ** 2))),
            "worst": float(rel[np.argmax(np.abs(rel))]), "mean_ratio": float(np.mean(p / m)),
            "kendall_tau": float(kendalltau(p, m).statistic)}


def line(label: str, fig: dict[str, float]) -> str:
    return (f"  {label:<34} within +-10%: {fig['within_10pct']:6.1%}   RMSE {fig['rmse_ms']:.3f} ms   worst "
            f"{fig['worst']:+6.1%}   mean pred/meas {fig['mean_ratio']:.3f}   Kendall tau {fig['kendall_tau']:.3f}")


def build_spread(predictions: Sequence[Sequence[float]]) -> dict[str, float]:
    """Per architecture (max - min) / mean over builds: median and largest."""
    arr = np.asarray(predictions, float)
    if arr.shape[0] < 2:
        return {"median": 0.0, "max": 0.0}
    spread = (arr.max(0) - arr.min(0)) / arr.mean(0)
    return {"median": float(np.median(spread)), "max": float(spread.max())}


def reference_units_spread(predictions: Sequence[Sequence[float]], references: Sequence[SpeedReference]
                           ) -> dict[str, float]:
    """:func:`build_spread` of each build's predictions divided by its reference's baseline."""
    return build_spread([np.asarray(p) / next(iter(r.baselines.values())) for p, r in zip(predictions, references)])


def compare(results: dict[str, Any], key: str, label: str, pred: Sequence[float], raw: Sequence[float],
            at_speed: Sequence[float] | None = None) -> None:
    """Print and record (``results[key]``, ``results[key + "_raw"]``) the accuracy of ``pred``
    against the measurements at the predictor's reference speed (when given) and raw."""
    if at_speed is not None:
        fig = accuracy(pred, at_speed)
        results.setdefault(key, []).append(fig)
        print(line(label, fig) + "   (measured at its reference speed)")
    fig = accuracy(pred, raw)
    results.setdefault(key + "_raw", []).append(fig)
    print(line(label, fig) + "   (measured raw)", flush=True)


def measure_truth(space: Any, samples: Sequence[dict], x: Any, threads: int, clock: str, repeats: int,
                  reference: SpeedReference | None = None) -> list[float]:
    """Every architecture measured end to end under the shared protocol, the architectures
    interleaved round-robin (25 at a time: memory). Without ``reference``: raw, what one
    measurement shows a user; with it (a table's reference and baselines): at the speed the
    table was built at, which is what a raw measurement shows on average when the machine's
    speed drifts (on the development VM +-25 % from one second to the next)."""
    measurer = LocalMeasurer("onnxruntime", threads, repeats, 5, "cpu", clock)
    measurer.reference = reference
    out: list[float] = []
    for start in range(0, len(samples), 25):
        items = [(space.freeze(s).eval(), [x]) for s in samples[start:start + 25]]
        out += [f.ms for f in measurer.measure_interleaved(items, MeasurementProtocol.for_repeats(repeats, warmup=5))]
    return out

"""Check a latency table against end-to-end measurements of random architectures."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TableAccuracy", "validate_table"]


@dataclass
class TableAccuracy:
    """How well a DeviceProfiler's table predicts measured latency (errors relative to measured)."""

    predicted_ms: list[float]
    measured_ms: list[float]
    repeat_ms: list[tuple[float, float]] = field(default_factory=list)  # (first, second) medians of one sample

    @property
    def rel_errors(self) -> np.ndarray:
        return np.asarray(self.predicted_ms) / np.asarray(self.measured_ms) - 1.0

    def share_within(self, tol: float = 0.10) -> float:
        return float(np.mean(np.abs(self.rel_errors) <= tol))

    @property
    def rmse_ms(self) -> float:
        return float(np.sqrt(np.mean((np.asarray(self.predicted_ms) - np.asarray(self.measured_ms)) ** 2)))

    @property
    def worst(self) -> float:
        e = self.rel_errors
        return float(e[np.argmax(np.abs(e))])

    @property
    def repeat_diffs(self) -> np.ndarray:
        """|second / first - 1| of the medians of each architecture measured twice."""
        return np.asarray([abs(b / a - 1.0) for a, b in self.repeat_ms])

    def summary(self) -> dict[str, Any]:
        d = self.repeat_diffs
        return {"archs": len(self.measured_ms), "within_10pct": self.share_within(0.10), "rmse_ms": self.rmse_ms,
                "worst_rel_error": self.worst, "mean_measured_ms": float(np.mean(self.measured_ms)),
                "repeat_pairs": len(d), "repeat_within_5pct": float(np.mean(d <= 0.05)) if len(d) else math.nan,
                "repeat_max_diff": float(d.max()) if len(d) else math.nan,
                "repeat_median_diff": float(np.median(d)) if len(d) else math.nan}


def validate_table(profiler: Any, archs: int = 100, seed: int = 1, repeat: int = 10) -> TableAccuracy:
    """Predict and measure ``archs`` seeded random architectures; measure the first ``repeat`` twice."""
    rng = random.Random(seed)
    samples = [profiler.space.random(rng) for _ in range(archs)]
    predicted = [profiler.profile(s) for s in samples]
    measured = [profiler.measure(s).median_ms for s in samples]
    again = [(measured[i], profiler.measure(samples[i]).median_ms) for i in range(min(repeat, archs))]
    return TableAccuracy(predicted, measured, again)

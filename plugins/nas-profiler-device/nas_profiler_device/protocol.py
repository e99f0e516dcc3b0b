"""The one measurement protocol behind every latency table and predictor built here.

Both the device profiler's lookup table and the nn-Meter predictor builder measure many
small models (blocks, kernels) and a few whole architectures with it::

    from nas_profiler_device.protocol import MeasurementProtocol, measure_interleaved
    figures = measure_interleaved(jobs, MeasurementProtocol(rounds=6, runs_per_round=5))

* **warm-up**: every job runs ``warmup`` untimed times before its first timed round;
* **interleaved**: ``rounds`` passes over all jobs, each pass in a fresh (seeded) order, a
  job timed ``runs_per_round`` times per visit; a slow minute of the machine then touches
  every job a little instead of one kernel type a lot;
* **speed reference**: a job with a :class:`~nas_profiler_device.reference.SpeedReference`
  times the reference right after each visit; every run of the visit is scaled by
  ``baseline / reference speed now``, where the speed now is the median reference time of
  the ``reference_window`` visits before and after it, whatever jobs they were. On the
  2-core development VM a model's median time moved by up to +-25 % from one second to the
  next; the reference follows that. Paired with its own visit alone, the reference also
  measured the job: it ran 5-8 % slower after a whole model than after a small block (the
  machine clocks down under heavy work), which made whole models look faster than the sum
  of their blocks by that much;
* **robust statistic**: run times further than ``outlier_mads`` scaled MADs from the median
  are rejected (a context switch, a page fault), the figure is the mean of the rest;
* **split halves**: even and odd rounds give two independent figures per job, from which
  the builders check that two builds would agree (:func:`check_stability`).
"""
from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from nas_profiler_device.errors import MeasurementError

__all__ = ["MeasurementProtocol", "Job", "JobFigure", "RobustFigure", "StabilityReport", "UnstableMeasurementError",
           "robust_figure", "measure_interleaved", "compare_builds", "check_stability", "fit_calibration",
           "STABILITY_ADVICE"]

#: what to do when two builds disagree; printed with every refusal
STABILITY_ADVICE = (
    "The machine was too noisy to measure reliably. Stop other work on it (check `uptime`: the load average "
    "should stay below the number of cores), pin the process to a core (`taskset -c 1 ...`) and keep threads=1, "
    "then build again with more rounds/repeats (e.g. rounds=10, runs_per_round=10).")


class UnstableMeasurementError(MeasurementError):
    """Two halves of one build disagree by more than the protocol's stability tolerance."""


@dataclass(frozen=True)
class MeasurementProtocol:
    """How kernels, blocks and whole models are timed (see the module docstring)."""

    warmup: int = 5
    rounds: int = 6
    runs_per_round: int = 5
    outlier_mads: float = 3.5
    seed: int = 0
    #: the speed now is the median reference time of this many visits before and after
    reference_window: int = 8
    #: two builds (the split halves) must agree within ``stability_tolerance`` on at least
    #: ``stability_share`` of the random architectures compared
    stability_tolerance: float = 0.05
    stability_share: float = 0.95

    def __post_init__(self) -> None:
        for name, lo in (("warmup", 0), ("rounds", 2), ("runs_per_round", 1), ("reference_window", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise MeasurementError(f"MeasurementProtocol.{name} must be an integer >= {lo}, got {v!r}"
                                       + (" (two rounds at least: the halves check the build)." if name == "rounds"
                                          else "."))
        if not (self.outlier_mads > 0):
            raise MeasurementError(f"MeasurementProtocol.outlier_mads must be > 0, got {self.outlier_mads!r}.")
        if not (0 < self.stability_tolerance < 1) or not (0 < self.stability_share <= 1):
            raise MeasurementError("MeasurementProtocol.stability_tolerance must be in (0, 1) and stability_share in "
                                   f"(0, 1]; got {self.stability_tolerance!r} and {self.stability_share!r}.")

    @classmethod
    def for_repeats(cls, repeats: int, warmup: int = 5, **kw: Any) -> "MeasurementProtocol":
        """About ``repeats`` timed runs per job in rounds of 5 runs (2 to 20 rounds): more repeats
        visit every job more often, at more moments of the machine's drift, rather than longer."""
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 2:
            raise MeasurementError(f"repeats must be an integer >= 2 (two rounds at least), got {repeats!r}.")
        rounds = kw.pop("rounds", min(20, max(2, repeats // 5)))
        return cls(warmup=warmup, rounds=rounds, runs_per_round=max(1, math.ceil(repeats / rounds)), **kw)

    @property
    def repeats(self) -> int:
        return self.rounds * self.runs_per_round


class Job(Protocol):
    """One thing to time. ``visit(runs)`` times ``runs`` runs and returns their times (ms) and
    the time of a speed-reference run taken right after them (``None`` without a reference)."""

    reference_key: str | None

    def warm(self, runs: int) -> None: ...

    def visit(self, runs: int) -> tuple[list[float], float | None]: ...


@dataclass
class RobustFigure:
    """The mean of the run times that survived the MAD test, and what was rejected."""

    ms: float
    median_ms: float
    kept: int
    rejected: int
    spread: float  # interquartile range / median of the kept times

    @property
    def runs(self) -> int:
        return self.kept + self.rejected


def robust_figure(times_ms: Sequence[float], outlier_mads: float = 3.5) -> RobustFigure:
    """Reject times further than ``outlier_mads`` scaled MADs (1.4826 * MAD ~ sigma) from the median."""
    arr = np.asarray([t for t in times_ms if math.isfinite(t)], dtype=np.float64)
    if arr.size == 0:
        raise MeasurementError("no finite run time to summarise; time at least one run.")
    med = float(np.median(arr))
    mad = 1.4826 * float(np.median(np.abs(arr - med)))
    keep = np.abs(arr - med) <= outlier_mads * mad if mad > 0 else arr == med
    if mad == 0 and keep.sum() * 2 < arr.size:  # no majority value: keep all
        keep = np.ones_like(arr, dtype=bool)
    kept = arr[keep]
    q1, q3 = np.percentile(kept, [25, 75])
    return RobustFigure(float(kept.mean()), med, int(keep.sum()), int((~keep).sum()),
                        float((q3 - q1) / med) if med > 0 else 0.0)


@dataclass
class JobFigure:
    """A job's figure from all rounds, and from the even and the odd rounds alone."""

    figure: RobustFigure
    halves: tuple[float, float]
    speed: float | None = None  # the machine's speed relative to the reference baseline (0.9: 10 % slower)
    times_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def ms(self) -> float:
        return self.figure.ms


def measure_interleaved(jobs: Sequence[Job], protocol: MeasurementProtocol,
                        baselines: dict[str, float] | None = None, *, warm: bool = True,
                        progress: Callable[[], None] | None = None) -> list[JobFigure]:
    """Time ``jobs`` round-robin under ``protocol``; one :class:`JobFigure` per job, in order.

    ``baselines``: the speed references' baselines by key (a stored table's, so its figures
    stay comparable); a key not there is set to the median reference time of this call.
    ``warm=False``: the jobs were warmed up already. ``progress`` is called after every visit.
    """
    baselines = baselines if baselines is not None else {}
    if warm:
        for job in jobs:
            job.warm(protocol.warmup)
    rng = random.Random(protocol.seed)
    order = list(range(len(jobs)))
    visits: list[list[tuple[int, list[float], int]]] = [[] for _ in jobs]  # (round, times, position in timeline)
    timeline: list[tuple[str | None, float | None]] = []  # (reference key, reference time) of every visit, in order
    for r in range(protocol.rounds):
        rng.shuffle(order)
        for j in order:
            times, ref = jobs[j].visit(protocol.runs_per_round)
            visits[j].append((r, list(times), len(timeline)))
            timeline.append((jobs[j].reference_key, ref))
            if progress is not None:
                progress()
    series = _reference_series(timeline)
    speed_now = _reference_now(series, len(timeline), protocol.reference_window)
    for key, refs in series.items():
        baselines.setdefault(key, float(statistics.median(ref for _, ref in refs)))
    out = []
    for job, vs in zip(jobs, visits):
        base = baselines.get(job.reference_key) if job.reference_key is not None else None
        corrected: list[tuple[int, float]] = []
        refs_now: list[float] = []
        for r, times, pos in vs:
            now = speed_now[pos]
            scale = 1.0
            if base and now:
                refs_now.append(now)
                scale = base / now
            corrected.extend((r, t * scale) for t in times)
        all_t = [t for _, t in corrected]
        halves = tuple(robust_figure([t for r, t in corrected if r % 2 == h], protocol.outlier_mads).ms
                       for h in (0, 1))
        speed = base / float(statistics.median(refs_now)) if base and refs_now else None
        out.append(JobFigure(robust_figure(all_t, protocol.outlier_mads), (halves[0], halves[1]), speed, all_t))
    return out


def _reference_series(timeline: Sequence[tuple[str | None, float | None]]) -> dict[str, list[tuple[int, float]]]:
    """Per reference key, its (position in the timeline, reference time) in time order."""
    out: dict[str, list[tuple[int, float]]] = {}
    for pos, (key, ref) in enumerate(timeline):
        if key is not None and ref:
            out.setdefault(key, []).append((pos, float(ref)))
    return out


def _reference_now(series: dict[str, list[tuple[int, float]]], visits: int, window: int) -> list[float | None]:
    """Per visit: the median reference time of the ``window`` visits (of the same reference)
    before and after it, itself included; ``None`` for a visit without a reference."""
    now: list[float | None] = [None] * visits
    for refs in series.values():
        times = [ref for _, ref in refs]
        for i, (pos, _) in enumerate(refs):
            now[pos] = float(statistics.median(times[max(0, i - window): i + window + 1]))
    return now


# -- stability ---------------------------------------------------------------------------------------
@dataclass
class StabilityReport:
    """How far two builds' predictions of the same architectures are apart."""

    rel_diffs: list[float]
    tolerance: float
    share_required: float

    @property
    def share_within(self) -> float:
        return float(np.mean(np.asarray(self.rel_diffs) <= self.tolerance)) if self.rel_diffs else 1.0

    @property
    def max_diff(self) -> float:
        return float(max(self.rel_diffs)) if self.rel_diffs else 0.0

    @property
    def median_diff(self) -> float:
        return float(np.median(self.rel_diffs)) if self.rel_diffs else 0.0

    @property
    def stable(self) -> bool:
        return self.share_within >= self.share_required

    def to_dict(self) -> dict[str, Any]:
        return {"stable": self.stable, "archs": len(self.rel_diffs), "tolerance": self.tolerance,
                "share_within": self.share_within, "share_required": self.share_required,
                "median_diff": self.median_diff, "max_diff": self.max_diff}

    def __str__(self) -> str:
        return (f"{self.share_within:.0%} of {len(self.rel_diffs)} random architectures within "
                f"{self.tolerance:.0%} between the two halves (needs {self.share_required:.0%}); median difference "
                f"{self.median_diff:.1%}, largest {self.max_diff:.1%}")


def compare_builds(pred_a: Sequence[float], pred_b: Sequence[float],
                   protocol: MeasurementProtocol | None = None) -> StabilityReport:
    """|a - b| / mean(a, b) per architecture, judged by the protocol's tolerance."""
    protocol = protocol or MeasurementProtocol()
    a, b = np.asarray(pred_a, dtype=np.float64), np.asarray(pred_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise MeasurementError(f"two builds must predict the same architectures; got {a.shape} and {b.shape}.")
    finite = np.isfinite(a) & np.isfinite(b)  # architectures with a unit that cannot run are not compared
    a, b = a[finite], b[finite]
    mean = (np.abs(a) + np.abs(b)) / 2
    diffs = np.where(mean > 0, np.abs(a - b) / np.where(mean > 0, mean, 1.0), 0.0)
    return StabilityReport([float(d) for d in diffs], protocol.stability_tolerance, protocol.stability_share)


def check_stability(report: StabilityReport, what: str, on_unstable: str = "raise") -> None:
    """Raise :class:`UnstableMeasurementError` (``on_unstable="raise"``) or log a loud warning
    (``"warn"``) when ``report`` is not stable; ``"ignore"`` does neither."""
    if on_unstable not in ("raise", "warn", "ignore"):
        raise MeasurementError(f"on_unstable must be 'raise', 'warn' or 'ignore', got {on_unstable!r}.")
    if report.stable or on_unstable == "ignore":
        return
    text = f"{what} is not reproducible on this machine: {report}. {STABILITY_ADVICE}"
    if on_unstable == "raise":
        raise UnstableMeasurementError(text + " To keep this build anyway, pass on_unstable='warn'.")
    import logging
    import warnings

    logging.getLogger("nas_profiler_device.protocol").warning(text)
    warnings.warn(text, RuntimeWarning, stacklevel=3)


# -- calibration against whole models ------------------------------------------------------------------
def fit_calibration(kernel_sums_ms: Sequence[float], measured_ms: Sequence[float]) -> tuple[float, float]:
    """``measured ~= scale * kernel_sum + offset``: a Theil-Sen line (robust to a few disturbed
    measurements); a ratio when the line is nonsense (a slope <= 0, or a latency <= 0 predicted
    for half the smallest kernel sum fitted on), an offset alone below 3 distinct points."""
    from scipy.stats import theilslopes

    x, y = np.asarray(kernel_sums_ms, float), np.asarray(measured_ms, float)
    if x.shape != y.shape:
        raise MeasurementError(f"calibration needs one measured latency per kernel sum; got {x.size} and {y.size}.")
    if len(np.unique(np.round(x, 12))) >= 3 and np.ptp(x) > 1e-3 * max(float(np.mean(np.abs(x))), 1e-9):
        scale = float(theilslopes(y, x)[0])
        offset = float(np.median(y - scale * x))
        if scale <= 0 or scale * float(x.min()) / 2 + offset <= 0:  # a nonsense line (too noisy): a ratio
            scale, offset = float(y.sum() / x.sum()), 0.0
        return scale, offset
    if len(x):
        return 1.0, float(np.mean(y - x))
    return 1.0, 0.0

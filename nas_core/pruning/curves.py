"""Learning curves as a pruner sees them: one trial's scores by step, and the other trials'."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Literal, Sequence

__all__ = ["LearningCurve", "TrialHistory", "CurveStatus", "RUNNING", "COMPLETED", "STOPPED", "FAILED"]

CurveStatus = Literal["running", "completed", "pruned", "failed"]
#: the trial is still training (or its worker died before it ended)
RUNNING = "running"
#: the trainer returned: the curve is complete
COMPLETED = "completed"
#: a pruner stopped the trial
STOPPED = "pruned"
#: the trainer raised
FAILED = "failed"


def as_score(value: float | None, maximize: bool) -> float:
    """A reported value as a score (higher is better); NaN or a missing value is the worst score."""
    if value is None or math.isnan(value):
        return -math.inf
    return float(value) if maximize else -float(value)


@dataclass(frozen=True)
class LearningCurve:
    """The intermediate results of one trial, in step order.

    ``scores`` are the reported objective oriented so that higher is better (negated when
    the objective is minimised; NaN becomes ``-inf``), so a pruner never needs the direction.
    ``steps`` strictly increase (epochs, for the classification trainer).
    """

    trial_id: int
    steps: tuple[int, ...]
    scores: tuple[float, ...]
    status: CurveStatus = RUNNING

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.scores):
            raise ValueError(f"trial {self.trial_id}: {len(self.steps)} steps but {len(self.scores)} scores.")
        if any(b <= a for a, b in zip(self.steps, self.steps[1:])):
            raise ValueError(f"trial {self.trial_id}: steps must strictly increase, got {list(self.steps)}.")

    @classmethod
    def of(cls, trial_id: int, points: Iterable[tuple[int, float]], status: CurveStatus = RUNNING) -> "LearningCurve":
        """From ``(step, score)`` pairs: ``LearningCurve.of(3, [(1, 0.5), (2, 0.7)], "completed")``."""
        pts = list(points)
        return cls(trial_id, tuple(int(s) for s, _ in pts), tuple(float(v) for _, v in pts), status)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def last_step(self) -> int:
        """The last reported step (0 before any report)."""
        return self.steps[-1] if self.steps else 0

    @property
    def last_score(self) -> float:
        return self.scores[-1] if self.scores else -math.inf

    @property
    def best_score(self) -> float:
        """The best score reported so far."""
        return max(self.scores, default=-math.inf)

    def reaches(self, step: int) -> bool:
        """True when the curve has a report at ``step`` or later."""
        return self.last_step >= step

    def mean_until(self, step: int) -> float:
        """The running average: the mean of the scores reported at steps ``<= step`` (-inf if none)."""
        head = [s for st, s in zip(self.steps, self.scores) if st <= step]
        return sum(head) / len(head) if head else -math.inf

    def score_at(self, step: int) -> float | None:
        """The score of the first report at ``step`` or later (None when the curve stops before)."""
        for st, s in zip(self.steps, self.scores):
            if st >= step:
                return s
        return None


class TrialHistory:
    """The learning curves of the *other* trials of the experiment, loaded on first use.

    Built from a loader (the worker reads the experiment's store only if the pruner asks)
    or from curves (``TrialHistory.of([...])``, handy in tests).
    """

    def __init__(self, load: Callable[[], Sequence[LearningCurve]]) -> None:
        self._load = load
        self._curves: list[LearningCurve] | None = None

    @classmethod
    def of(cls, curves: Iterable[LearningCurve]) -> "TrialHistory":
        fixed = list(curves)
        return cls(lambda: fixed)

    @property
    def curves(self) -> list[LearningCurve]:
        """Every other trial's curve (running, completed, pruned or failed), in trial order."""
        if self._curves is None:
            self._curves = sorted(self._load(), key=lambda c: c.trial_id)
        return self._curves

    @property
    def completed(self) -> list[LearningCurve]:
        """The curves of trials whose training ran to its end."""
        return [c for c in self.curves if c.status == COMPLETED]

    def __len__(self) -> int:
        return len(self.curves)

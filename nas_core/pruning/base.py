"""The pruner contract, and what stops a trial."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Mapping

from nas_core.errors import NasError
from nas_core.pruning.curves import LearningCurve, TrialHistory

__all__ = ["Pruner", "TrialPruned", "ReportError"]


class Pruner(ABC):
    """Decides, after each intermediate report of a trial, whether the trial goes on.

    :meth:`should_prune` runs in the worker that trains the trial, right after the report
    was stored. It sees the trial's curve so far and the other trials' curves (read from
    the experiment's store), so a pruner keeps no state of its own: it must be picklable
    and its decision a function of the curves only. Scores are oriented so that higher is
    better, whatever the objective's direction.
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def should_prune(self, curve: LearningCurve, history: TrialHistory) -> bool:
        """True to stop the trial now.

        ``curve`` is the trial's curve; its last point is the report just made.
        ``history`` holds every other trial's curve (loaded on first access).
        """

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({opts})"


class TrialPruned(Exception):
    """Raised by :func:`nas_core.pruning.report` when the pruner stops the trial.

    A trainer lets it propagate (clean up in a ``finally`` if it must); the trial is then
    recorded ``pruned`` with its last reported metrics, and the strategy is told them as a
    partial result.
    """

    def __init__(self, trial_id: int, step: int, metrics: Mapping[str, float], pruner: Pruner | None = None) -> None:
        self.trial_id, self.step, self.metrics = trial_id, step, dict(metrics)
        by = f" by {type(pruner).__name__}" if pruner is not None else ""
        super().__init__(f"trial {trial_id} pruned{by} at step {step}")


class ReportError(NasError, ValueError):
    """A trainer reported an intermediate result that cannot be used (bad step or value)."""

"""The median stopping rule (Golovin et al. 2017, Google Vizier; NNI's ``Medianstop`` assessor)."""
from __future__ import annotations

import numbers

from nas_core.errors import ConfigError
from nas_core.pruning import LearningCurve, Pruner, TrialHistory

__all__ = ["MedianStop"]


class MedianStop(Pruner):
    """Stop a trial at step S when its best score so far is strictly worse than the median
    of the running averages, up to S, of every completed trial whose curve reaches S.

    ``start_step``: no trial is stopped before this step (NNI's ``start_step``, default 0).
    With one report per step 1, 2, 3... (one per epoch) this is NNI's rule exactly: with
    an even number of completed trials the lower of the two middle averages is the median
    (NNI's choice when maximising; minimised objectives are negated scores, which gives
    NNI's upper median of the raw values). No completed trial reaching S: never stop.
    """

    name = "median"

    def __init__(self, start_step: int = 0) -> None:
        if not isinstance(start_step, numbers.Integral) or isinstance(start_step, bool) or start_step < 0:
            raise ConfigError(f"median: start_step must be an integer >= 0 (the first step assessed), got {start_step!r}.")
        self.start_step = int(start_step)

    def should_prune(self, curve: LearningCurve, history: TrialHistory) -> bool:
        step = curve.last_step
        if step < self.start_step:
            return False
        averages = sorted(c.mean_until(step) for c in history.completed if c.reaches(step))
        if not averages:
            return False
        median = averages[(len(averages) - 1) // 2]
        return curve.best_score < median

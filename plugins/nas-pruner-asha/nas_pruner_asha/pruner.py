"""Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel
Hyperparameter Tuning", MLSys 2020), as a pruner that decides from stored curves."""
from __future__ import annotations

import math
import numbers

from nas_core.errors import ConfigError
from nas_core.pruning import LearningCurve, Pruner, TrialHistory

__all__ = ["ASHA"]


def _int_at_least(name: str, value: object, minimum: int, what: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"asha: {name} must be an integer >= {minimum} ({what}), got {value!r}.")
    return int(value)


class ASHA(Pruner):
    """Rungs at steps ``min_resource * reduction_factor ** (min_early_stopping_rate + k)``,
    k = 0, 1, 2...; a trial reaching a rung goes on only if its score there is among the
    top ``1 / reduction_factor`` of the scores every trial had at that rung so far.

    A trial's score at a rung is its first report at or after the rung's step. With ``n``
    scores at the rung (its own included) it is promoted when it is at least the
    ``max(n // reduction_factor, 1)``-th best, so the first trials to reach a rung are
    promoted only if they beat every earlier one (no trial waits for others: that is the
    asynchronous part). ``bootstrap_count``: the first that many trials to reach each rung
    are stopped there, whatever their score. A NaN report is stopped at the next rung.
    The maximum resource is the trainer's own number of epochs.
    """

    name = "asha"

    def __init__(self, min_resource: int = 1, reduction_factor: int = 3, min_early_stopping_rate: int = 0,
                 bootstrap_count: int = 0) -> None:
        self.min_resource = _int_at_least("min_resource", min_resource, 1, "the step of the first rung")
        self.reduction_factor = _int_at_least("reduction_factor", reduction_factor, 2,
                                              "1 / reduction_factor of the trials go on at each rung")
        self.min_early_stopping_rate = _int_at_least("min_early_stopping_rate", min_early_stopping_rate, 0,
                                                     "the first rung is at min_resource * reduction_factor ** this")
        self.bootstrap_count = _int_at_least("bootstrap_count", bootstrap_count, 0,
                                             "trials stopped at each rung before any is promoted")

    def rung_step(self, rung: int) -> int:
        """The step at which rung ``rung`` (0, 1, ...) is decided."""
        return self.min_resource * self.reduction_factor ** (self.min_early_stopping_rate + rung)

    def should_prune(self, curve: LearningCurve, history: TrialHistory) -> bool:
        step, score = curve.last_step, curve.last_score
        previous = curve.steps[-2] if len(curve) > 1 else -1
        rung = 0
        while (at := self.rung_step(rung)) <= step:
            if at > previous:  # this rung is crossed by the report just made
                if score == -math.inf:
                    return True
                competing = [s for c in history.curves if (s := c.score_at(at)) is not None]
                competing.append(score)
                if len(competing) <= self.bootstrap_count or not self.promotable(score, competing):
                    return True
            rung += 1
        return False

    def promotable(self, score: float, competing: list[float]) -> bool:
        """True when ``score`` is among the top ``max(len(competing) // reduction_factor, 1)``."""
        keep = max(len(competing) // self.reduction_factor, 1)
        return score >= sorted(competing, reverse=True)[keep - 1]

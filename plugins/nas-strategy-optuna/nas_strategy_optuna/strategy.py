"""TPE: Optuna's Tree-structured Parzen Estimator as a nas-core ask/tell strategy."""
from __future__ import annotations

from typing import Mapping

import optuna

from nas_core.errors import ConfigError
from nas_core.strategy import check_int
from nas_strategy_optuna.study import Direction, OptunaStrategy, quiet

__all__ = ["TPE"]


class TPE(OptunaStrategy):
    """Tree-structured Parzen Estimator search (Optuna's ``TPESampler``), a model-based strategy.

    After ``n_startup_trials`` random samples, each proposal maximises the ratio of two
    density models fitted to the good and the bad trials so far. Samples it proposes are
    never repeated (also up to equivalence: see :meth:`SearchSpace.canonical`) and, under a
    feasibility predicate handed over by ``Filter``, always feasible: a TPE draw that is not
    is replaced by another (``max_draws`` per ``ask``), then by a uniform feasible one.

    With ``objectives`` (a mapping of metric name to ``"max"`` or ``"min"``; ``"score"`` is
    the told score) it searches for the Pareto front of those metrics (multi-objective TPE);
    every told result must then carry those metrics. Without, it maximises the score (for a
    search that follows the experiment's objectives, use ``nsga2``).

    Optuna's TPE costs O(trials) per ``ask``: fine for the hundreds to low thousands of
    trainings a NAS budget allows, not for 100,000 cheap trials (use ``random`` or
    ``regularized-evolution`` there).

    Args:
        n_startup_trials: random samples before the model is used (>= 1).
        multivariate: model the labels jointly (Optuna's multivariate TPE) rather than one by one.
        objectives: metrics for a multi-objective search; None: maximise the score.
        max_draws: TPE draws per ``ask`` before falling back to a uniform sample.
        seed: overrides the seed the runner passes to ``setup``.
    """

    name = "tpe"

    def __init__(self, n_startup_trials: int = 10, multivariate: bool = True,
                 objectives: Mapping[str, Direction] | None = None, max_draws: int = 20,
                 seed: int | None = None) -> None:
        self.n_startup_trials = check_int("TPE", "n_startup_trials", n_startup_trials, 1)
        if not isinstance(multivariate, bool):
            raise ConfigError(f"TPE: multivariate must be True or False, got {multivariate!r}.")
        self.multivariate = multivariate
        super().__init__(objectives, max_draws, seed)

    def _sampler(self, draw: int) -> optuna.samplers.BaseSampler:
        with quiet():
            return optuna.samplers.TPESampler(n_startup_trials=self.n_startup_trials, multivariate=self.multivariate,
                                              seed=self._draw_seed(draw))

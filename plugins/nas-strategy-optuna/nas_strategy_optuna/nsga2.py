"""NSGA-II: a multi-objective strategy that searches for the Pareto front itself (Optuna's ``NSGAIISampler``)."""
from __future__ import annotations

from typing import Any, Mapping

import optuna
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from nas_core.strategy import check_int, check_prob
from nas_strategy_optuna.study import Direction, OptunaStrategy, quiet

__all__ = ["NSGA2"]

#: the user attribute holding the generation of a learned trial
GENERATION = "nsga2:generation"


class TellOrderNSGAII(optuna.samplers.NSGAIISampler):
    """Optuna's NSGA-II whose generations follow the order results are learned: the i-th learned
    trial belongs to generation ``i // population_size``, and a draw to the generation of the next
    one. Optuna's own rule counts the trials complete when a trial is asked; the strategy adds
    trials when they are told, so this rule makes every generation, and the parents elected from
    it, a function of the told history alone (an exact resume), whatever the batch size."""

    def get_trial_generation(self, study: Study, trial: FrozenTrial) -> int:
        generation = trial.user_attrs.get(GENERATION)
        if generation is not None:
            return int(generation)
        learned = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        return learned // int(self.population_size or 1)

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """The parents in the order they were learned. (Optuna returns them in rank order when it elects
        them and in trial order from its cache afterwards; the order picks the parents of a child, so a
        resume that elects them at another draw would diverge.)"""
        return sorted(super().get_parent_population(study, generation), key=lambda t: t.number)

    def get_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.user_attrs.get(GENERATION) == generation]


class NSGA2(OptunaStrategy):
    """Multi-objective search for the Pareto front (NSGA-II, Optuna's ``NSGAIISampler``).

    Each generation of ``population_size`` learned trials, together with the parents before
    it, is ranked by non-dominated sorting and crowding distance; the best ``population_size``
    are the next parents. A child takes each label from one of two parents (uniform crossover,
    with probability ``crossover_prob``; else it copies a parent), then draws each label anew
    with probability ``mutation_prob`` (None: 2 / number of labels, two labels per child on
    average; Optuna's default of one explored less on the benchmark suite). The first generation is
    uniform. A child that was tried already (up to equivalence) or that the feasibility
    predicate refuses is drawn again (``max_draws`` per ``ask``), then replaced by a uniform
    feasible sample: like every strategy here, it never repeats and honours ``Filter``'s bounds.

    ``objectives`` maps metric names to ``"max"``/``"min"`` (``"score"`` is the told score); every
    told result carries those metrics. None (the default): the experiment's objectives, which
    the runner tells the strategy (``Experiment(objectives=...)``, the config's ``[objectives]``;
    by default the trainer's metric up and every profiler's cost down); outside an experiment,
    the score alone. A hard bound is a constraint of the experiment, as with every strategy: a
    bound on a profiler cost keeps proposals inside it.

    Args:
        population_size: learned trials per generation (>= 2). Small populations suit small
            budgets: at 150 trainings, 10 gives fifteen generations (10 measured better than 20
            at 50 and 150 trainings on the suite).
        crossover_prob: probability that a child crosses two parents rather than copying one.
        mutation_prob: probability to redraw each label of a child (None: 2 / number of labels, at most 1).
        objectives: the metrics and directions of the front; None: the experiment's.
        max_draws: NSGA-II draws per ``ask`` before falling back to a uniform sample.
        seed: overrides the seed the runner passes to ``setup``.
    """

    name = "nsga2"
    follows_experiment_objectives = True

    def __init__(self, population_size: int = 10, crossover_prob: float = 0.9, mutation_prob: float | None = None,
                 objectives: Mapping[str, Direction] | None = None, max_draws: int = 20,
                 seed: int | None = None) -> None:
        self.population_size = check_int("NSGA2", "population_size", population_size, 2)
        self.crossover_prob = check_prob("NSGA2", "crossover_prob", crossover_prob)
        self.mutation_prob = check_prob("NSGA2", "mutation_prob", mutation_prob, allow_none=True)
        super().__init__(objectives, max_draws, seed)

    def _sampler(self, draw: int) -> optuna.samplers.BaseSampler:
        with quiet():
            mutation_prob = self.mutation_prob
            if mutation_prob is None:
                mutation_prob = min(1.0, 2.0 / max(1, len(self._require_setup().labels)))
            return TellOrderNSGAII(population_size=self.population_size, crossover_prob=self.crossover_prob,
                                   mutation_prob=mutation_prob, seed=self._draw_seed(draw))

    def _trial_attrs(self) -> dict[str, Any]:
        learned = len(self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        return {GENERATION: learned // self.population_size}

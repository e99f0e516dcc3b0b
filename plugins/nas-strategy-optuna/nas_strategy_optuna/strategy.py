"""TPE: Optuna's Tree-structured Parzen Estimator as a nas-core ask/tell strategy.

Each label is one categorical parameter (the positions of its values). Trials enter the
Optuna study when they are told, in the order told, so a study rebuilt from the history on
resume is the study the search had; each ``ask`` reseeds the sampler from the strategy
seed and a draw counter, so a resumed search proposes exactly what it would have.
"""
from __future__ import annotations

import contextlib
import logging
import math
import random
import warnings
from typing import Any, Iterator, Literal, Mapping

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from nas_core.errors import ConfigError
from nas_core.interfaces.strategy import TrialResult
from nas_core.strategy import SeededStrategy, check_int, usable_score

__all__ = ["TPE"]

Indices = tuple[int, ...]
Direction = Literal["max", "min"]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Optuna logs every trial and warns that multivariate TPE is experimental; keep that out of search logs."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        logger.setLevel(level)


class TPE(SeededStrategy):
    """Tree-structured Parzen Estimator search (Optuna's ``TPESampler``), a model-based strategy.

    After ``n_startup_trials`` random samples, each proposal maximises the ratio of two
    density models fitted to the good and the bad trials so far. Samples it proposes are
    never repeated (also up to equivalence: see :meth:`SearchSpace.canonical`) and, under a
    feasibility predicate handed over by ``Filter``, always feasible: a TPE draw that is not
    is replaced by another (``max_draws`` per ``ask``), then by a uniform feasible one.

    With ``objectives`` (a mapping of metric name to ``"max"`` or ``"min"``; ``"score"`` is
    the told score) it searches for the Pareto front of those metrics (multi-objective TPE);
    every told result must then carry those metrics.

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
        super().__init__(seed)
        self.n_startup_trials = check_int("TPE", "n_startup_trials", n_startup_trials, 1)
        if not isinstance(multivariate, bool):
            raise ConfigError(f"TPE: multivariate must be True or False, got {multivariate!r}.")
        self.multivariate = multivariate
        self.max_draws = check_int("TPE", "max_draws", max_draws, 1)
        if objectives is not None:
            if not isinstance(objectives, Mapping) or not objectives or any(
                d not in ("max", "min") or not isinstance(k, str) for k, d in objectives.items()
            ):
                raise ConfigError(
                    "TPE: objectives must be a non-empty mapping of metric name to 'max' or 'min', e.g. "
                    f"{{'score': 'max', 'latency': 'min'}}; got {objectives!r}."
                )
            objectives = dict(objectives)
        self.objectives = objectives

    def _setup(self) -> None:
        directions = (["maximize"] if self.objectives is None
                      else ["maximize" if d == "max" else "minimize" for d in self.objectives.values()])
        with _quiet():
            self.study = optuna.create_study(directions=directions, sampler=self._sampler(0))
        self._distributions = {label: CategoricalDistribution(list(range(n)))
                               for label, n in zip(self.codec.labels, self.codec.sizes)}
        self._pending: dict[Indices, int] = {}
        self.n_draws = 0

    def _sampler(self, draw: int) -> optuna.samplers.BaseSampler:
        seed = (int(self.seed) * 1_000_003 + draw) % (2**32)
        with _quiet():
            return optuna.samplers.TPESampler(n_startup_trials=self.n_startup_trials, multivariate=self.multivariate,
                                              seed=seed)

    # -- proposing --------------------------------------------------------------------
    def ask(self) -> dict[str, Any] | None:
        codec, proposals = self._require_setup(), self._require_proposals()
        chosen: Indices | None = None
        with _quiet():
            for _ in range(self.max_draws):
                self.study.sampler = self._sampler(self.n_draws)
                self.n_draws += 1
                trial = self.study.ask(self._distributions)
                # the study holds told trials only, in the order told: this draw leaves as a failed placeholder
                self.study.tell(trial, state=TrialState.FAIL)
                chosen = proposals.admissible(tuple(trial.params[label] for label in codec.labels))
                if chosen is not None:
                    break
        if chosen is None:
            chosen = proposals.draw(random.Random((int(self.seed) * 1_000_003 + self.n_draws) % (2**32)))
            self.n_draws += 1
            if chosen is None:
                return None
        proposals.mark(chosen)
        self._pending[chosen] = self._pending.get(chosen, 0) + 1
        return codec.decode(chosen)

    # -- learning ---------------------------------------------------------------------
    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        indices = self._require_proposals().canonical_of(sample)
        if self._pending.get(indices, 0) > 1:
            self._pending[indices] -= 1
        else:
            self._pending.pop(indices, None)
        self.proposals.mark(indices)
        self._add(indices, result)

    def _values(self, result: TrialResult) -> list[float] | None:
        score = usable_score(result)
        if score is None:
            return None
        if self.objectives is None:
            return [score]
        values = []
        for name in self.objectives:
            v = score if name == "score" else result.metrics.get(name)
            try:
                v = float(v)
            except (TypeError, ValueError):
                return None
            if not math.isfinite(v):
                return None
            values.append(v)
        return values

    def _add(self, indices: Indices, result: TrialResult) -> None:
        values = self._values(result)
        if values is None:
            return
        params = {label: int(i) for label, i in zip(self.codec.labels, indices)}
        with _quiet():
            self.study.add_trial(create_trial(params=params, distributions=self._distributions, values=values))

    def _restore(self, told: list[tuple[Indices, TrialResult]]) -> None:
        for indices, result in told:
            self._add(indices, result)

    # -- state ------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"n_draws": self.n_draws, "pending": [[list(i), n] for i, n in self._pending.items()],
                "objectives": self.objectives}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.n_draws = int(state["n_draws"])
        self._pending = {tuple(i): int(n) for i, n in state["pending"]}
        for indices in self._pending:
            self.proposals.mark(indices)

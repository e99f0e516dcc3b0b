"""What the Optuna-backed strategies share: a study fed with the told trials, in the order told.

Each label is one categorical parameter (the positions of its values). Trials enter the
Optuna study when they are told, in the order told, so a study rebuilt from the history on
resume is the study the search had; each ``ask`` builds the sampler afresh, seeded from the
strategy seed and a draw counter, so a resumed search proposes exactly what it would have.
A subclass says which sampler (:meth:`OptunaStrategy._sampler`) and what a told trial carries
(:meth:`OptunaStrategy._trial_attrs`).
"""
from __future__ import annotations

import contextlib
import difflib
import logging
import math
import random
import warnings
from typing import Any, Iterator, Literal, Mapping, Sequence

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from nas_core.errors import ConfigError
from nas_core.interfaces.strategy import SUCCEEDED, TrialResult
from nas_core.strategy import PendingSamples, SeededStrategy, StrategyStateError, check_int, usable_score

__all__ = ["OptunaStrategy", "check_objectives", "quiet", "SCORE"]

Indices = tuple[int, ...]
Direction = Literal["max", "min"]
#: the objective name that stands for the told score (maximised)
SCORE = "score"

log = logging.getLogger("nas_strategy_optuna")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Optuna logs every trial and warns about experimental features; keep that out of search logs."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        logger.setLevel(level)


def check_objectives(owner: str, objectives: Any) -> dict[str, Direction] | None:
    """``objectives`` as an ordered dict of metric name -> ``"max"``/``"min"`` (None stays None), or a ConfigError."""
    if objectives is None:
        return None
    example = "{'accuracy': 'max', 'latency': 'min'}"
    if not isinstance(objectives, Mapping) or not objectives:
        raise ConfigError(f"{owner}: objectives must be a non-empty mapping of metric name to 'max' or 'min', e.g. "
                          f"{example}; got {objectives!r}.")
    for name, direction in objectives.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{owner}: objectives must be a non-empty mapping of metric name to 'max' or 'min'; "
                              f"{name!r} is not a metric name (a non-empty string), e.g. {example}.")
        if direction not in ("max", "min"):
            raise ConfigError(f"{owner}: objectives must be a non-empty mapping of metric name to 'max' or 'min'; "
                              f"the direction of {name!r} is {direction!r}: write 'max' (larger is better) or 'min'.")
    return dict(objectives)


class OptunaStrategy(SeededStrategy):
    """An ask/tell strategy over an Optuna study (base of ``tpe`` and ``nsga2``).

    Samples it proposes are never repeated (also up to equivalence: see
    :meth:`SearchSpace.canonical`) and, under a feasibility predicate handed over by
    ``Filter``, always feasible: a sampler draw that is not is replaced by another
    (``max_draws`` per ``ask``), then by a uniform feasible one.

    ``objectives`` (metric name -> ``"max"``/``"min"``; ``"score"`` is the told score) makes the
    study multi-objective: every told result then carries those metrics (a result without one
    is not learned from, with a warning). None: the objectives the runner tells
    (:meth:`set_objectives`) when :attr:`follows_experiment_objectives`, else the score alone.
    """

    #: True: without ``objectives`` of its own, the strategy takes the experiment's (set_objectives)
    follows_experiment_objectives = False

    def __init__(self, objectives: Mapping[str, Direction] | None = None, max_draws: int = 20,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        owner = type(self).__name__
        self.max_draws = check_int(owner, "max_draws", max_draws, 1)
        self.objectives = check_objectives(owner, objectives)
        self._own_objectives = self.objectives is not None
        self._warned: set[str] = set()

    # -- hooks for subclasses ---------------------------------------------------------
    def _sampler(self, draw: int) -> optuna.samplers.BaseSampler:
        """The sampler of the ``draw``-th draw (seed it from :meth:`_draw_seed`)."""
        raise NotImplementedError

    def _trial_attrs(self) -> dict[str, Any]:
        """User attributes of the next trial added to the study (a told, learned result)."""
        return {}

    def _draw_seed(self, draw: int) -> int:
        return (int(self.seed) * 1_000_003 + draw) % (2**32)

    # -- setup ------------------------------------------------------------------------
    def _setup(self) -> None:
        self._distributions = {label: CategoricalDistribution(list(range(n)))
                               for label, n in zip(self.codec.labels, self.codec.sizes)}
        self._pending = PendingSamples()
        self.n_draws = 0
        self._new_study()

    def _new_study(self) -> None:
        directions = (["maximize"] if self.objectives is None
                      else ["maximize" if d == "max" else "minimize" for d in self.objectives.values()])
        with quiet():
            self.study = optuna.create_study(directions=directions, sampler=self._sampler(0))

    def set_objectives(self, objectives: Mapping[str, str], metrics: Sequence[str] = ()) -> bool:
        """The experiment's objectives: checked against ``metrics`` when the strategy has its own, else
        adopted when :attr:`follows_experiment_objectives` (see :meth:`Strategy.set_objectives`)."""
        owner = type(self).__name__
        if self._own_objectives:
            assert self.objectives is not None
            known = [SCORE, *metrics]
            for name in self.objectives:
                if metrics and name not in known:
                    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
                    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                    raise ConfigError(f"{owner}: unknown objective {name!r}: the trials report no such metric.{hint} "
                                      f"Known: {', '.join(map(repr, known))}.")
            return True
        if not self.follows_experiment_objectives:
            return False
        self._require_setup()
        if len(self.study.trials):
            raise ConfigError(f"{owner}.set_objectives must be called before any trial is told (right after setup).")
        self.objectives = check_objectives(owner, dict(objectives))
        self._new_study()
        return True

    # -- proposing --------------------------------------------------------------------
    def ask(self) -> dict[str, Any] | None:
        codec, proposals = self._require_setup(), self._require_proposals()
        chosen: Indices | None = None
        with quiet():
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
            chosen = proposals.draw(random.Random(self._draw_seed(self.n_draws)))
            self.n_draws += 1
            if chosen is None:
                return None
        proposals.mark(chosen)
        self._pending.add(chosen)
        return codec.decode(chosen)

    # -- learning ---------------------------------------------------------------------
    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        indices = self._require_proposals().told(sample, self._pending)
        self._add(indices, result)

    def _values(self, result: TrialResult) -> list[float] | None:
        score = usable_score(result)
        if score is None:
            return None
        if self.objectives is None:
            return [score]
        values = []
        for name in self.objectives:
            raw: Any = score if name == SCORE else result.metrics.get(name)
            if raw is None and result.status == SUCCEEDED and name not in self._warned:
                self._warned.add(name)
                log.warning("%s: a told result has no metric %r (it has %s); results without it are not learned "
                            "from. Check the objectives.", type(self).__name__, name, sorted(result.metrics))
            try:
                v = float(raw)
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
        with quiet():
            self.study.add_trial(create_trial(params=params, distributions=self._distributions, values=values,
                                              user_attrs=self._trial_attrs()))

    def _restore(self, told: list[tuple[Indices, TrialResult]]) -> None:
        for indices, result in told:
            self._add(indices, result)

    # -- state ------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"n_draws": self.n_draws, "pending": self._pending.to_state(),
                "objectives": self.objectives}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        saved = state.get("objectives")
        if saved != self.objectives:
            raise StrategyStateError(f"{type(self).__name__}.load_state_dict: the saved search optimised {saved}, "
                                     f"this one {self.objectives}; resume with the same objectives.")
        self.n_draws = int(state["n_draws"])
        self._pending = PendingSamples(state["pending"])
        for indices in self._pending:
            self._require_proposals().mark(indices)

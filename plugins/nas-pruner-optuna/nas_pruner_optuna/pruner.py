"""Optuna's pruners on nas-core's stored learning curves.

Each decision builds an in-memory Optuna study from the curves (the other trials with
their states, then this trial as running) and asks the Optuna pruner. Only Optuna's
pruners whose decision is a function of the intermediate values are wrapped: median,
percentile and Wilcoxon. Successive halving and Hyperband keep their own bookkeeping in
the study, so use the ``asha`` pruner (nas-pruner-asha) instead; Optuna's threshold pruner
is a one-liner on the curve (see the plugin guide's ``Threshold``).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

from nas_core.errors import ConfigError
from nas_core.pruning import COMPLETED, FAILED, STOPPED, LearningCurve, Pruner, TrialHistory

__all__ = ["OptunaPruner", "OptunaMedian", "OptunaPercentile", "OptunaWilcoxon"]


class OptunaPruner(Pruner):
    """An Optuna pruner by class name (``optuna_class``) with its options.

    Scores are handed to Optuna as a maximised study (nas-core orients them so that
    higher is better); a NaN report is NaN for Optuna too.
    """

    optuna_class: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = dict(options)
        self._pruner: Any = None
        self._optuna_pruner()  # validate the options now, in the main process

    def __getstate__(self) -> dict[str, Any]:
        return {"options": self.options}  # the Optuna object is rebuilt in the worker

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.options, self._pruner = state["options"], None

    def _optuna_pruner(self) -> Any:
        if self._pruner is None:
            import optuna

            try:
                self._pruner = getattr(optuna.pruners, self.optuna_class)(**self.options)
            except (TypeError, ValueError) as err:
                raise ConfigError(f"{self.name}: optuna.pruners.{self.optuna_class} refused the options "
                                  f"{self.options} ({err}).") from None
        return self._pruner

    def should_prune(self, curve: LearningCurve, history: TrialHistory) -> bool:
        import optuna
        from optuna.trial import TrialState, create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize", storage=optuna.storages.InMemoryStorage())
        states = {COMPLETED: TrialState.COMPLETE, STOPPED: TrialState.PRUNED, FAILED: TrialState.FAIL}
        for other in history.curves:
            state = states.get(other.status, TrialState.RUNNING)
            value = _value(other.last_score) if state == TrialState.COMPLETE else None
            if state == TrialState.COMPLETE and math.isnan(value):
                state, value = TrialState.FAIL, None  # Optuna has no complete trial without a value
            study.add_trial(create_trial(state=state, value=value, intermediate_values=_values(other)))
        study.add_trial(create_trial(state=TrialState.RUNNING, intermediate_values=_values(curve)))
        return bool(self._optuna_pruner().prune(study, study.get_trials(deepcopy=False)[-1]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.options.items())})"


def _value(score: float) -> float:
    return math.nan if score == -math.inf else score


def _values(curve: LearningCurve) -> dict[int, float]:
    return {step: _value(score) for step, score in zip(curve.steps, curve.scores)}


class OptunaMedian(OptunaPruner):
    """``optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0, interval_steps=1, n_min_trials=1)``:
    stop when the best score so far is worse than the median of the completed trials' scores at this step."""

    name = "optuna-median"
    optuna_class = "MedianPruner"


class OptunaPercentile(OptunaPruner):
    """``optuna.pruners.PercentilePruner(percentile, n_startup_trials=5, n_warmup_steps=0, interval_steps=1,
    n_min_trials=1)``: as the median pruner at another percentile (25.0 keeps the top 25 %)."""

    name = "optuna-percentile"
    optuna_class = "PercentilePruner"


class OptunaWilcoxon(OptunaPruner):
    """``optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)``: a Wilcoxon signed-rank test of
    this trial's scores against the best completed trial's at the same steps (steps are instances or folds)."""

    name = "optuna-wilcoxon"
    optuna_class = "WilcoxonPruner"

"""nas-core pruners wrapping Optuna's pruners that decide from intermediate values alone."""
from __future__ import annotations

import nas_core
from nas_pruner_optuna.pruner import OptunaMedian, OptunaPercentile, OptunaPruner, OptunaWilcoxon

__all__ = ["OptunaPruner", "OptunaMedian", "OptunaPercentile", "OptunaWilcoxon"]


@nas_core.hookimpl
def register_pruners(register):
    register("optuna-median", OptunaMedian)
    register("optuna-percentile", OptunaPercentile)
    register("optuna-wilcoxon", OptunaWilcoxon)

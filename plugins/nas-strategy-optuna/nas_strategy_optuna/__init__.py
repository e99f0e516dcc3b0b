"""nas-core strategies through Optuna: ``tpe`` (TPE, single- and multi-objective) and ``nsga2``
(NSGA-II, multi-objective: the Pareto front of the experiment's objectives)."""
from __future__ import annotations

import nas_core
from nas_strategy_optuna.nsga2 import NSGA2
from nas_strategy_optuna.strategy import TPE

__all__ = ["NSGA2", "TPE"]


@nas_core.hookimpl
def register_strategies(register):
    register("tpe", TPE)
    register("nsga2", NSGA2)

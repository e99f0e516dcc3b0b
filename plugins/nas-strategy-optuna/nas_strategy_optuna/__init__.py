"""nas-core strategy ``tpe``: Optuna's TPE sampler (single- and multi-objective) behind ask/tell."""
from __future__ import annotations

import nas_core
from nas_strategy_optuna.strategy import TPE

__all__ = ["TPE"]


@nas_core.hookimpl
def register_strategies(register):
    register("tpe", TPE)

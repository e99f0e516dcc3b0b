"""nas-core strategy ``regularized-evolution``: aging evolution (Real et al. 2019)."""
from __future__ import annotations

import nas_core
from nas_strategy_evolution.strategy import RegularizedEvolution, default_population_size

__all__ = ["RegularizedEvolution", "default_population_size"]


@nas_core.hookimpl
def register_strategies(register):
    register("regularized-evolution", RegularizedEvolution)

"""nas-core strategies ``regularized-evolution`` (aging evolution, Real et al. 2019) and
``guided-evolution`` (children ranked by a Gaussian-process surrogate)."""
from __future__ import annotations

import nas_core
from nas_strategy_evolution.guided import GuidedEvolution
from nas_strategy_evolution.strategy import RegularizedEvolution, default_population_size

__all__ = ["GuidedEvolution", "RegularizedEvolution", "default_population_size"]


@nas_core.hookimpl
def register_strategies(register):
    register("regularized-evolution", RegularizedEvolution)
    register("guided-evolution", GuidedEvolution)

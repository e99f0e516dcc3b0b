"""nas-core strategy ``random``: uniform random search, seeded and deduplicating."""
from __future__ import annotations

import nas_core
from nas_strategy_random.strategy import Random

__all__ = ["Random"]


@nas_core.hookimpl
def register_strategies(register):
    register("random", Random)

"""nas-core one-shot strategy ``darts``: DARTS (first-order) and its Gumbel-softmax variant."""
from __future__ import annotations

import nas_core
from nas_strategy_darts.strategy import DARTS

__all__ = ["DARTS"]


@nas_core.hookimpl
def register_strategies(register):
    register("darts", DARTS)

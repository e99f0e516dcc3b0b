"""nas-core one-shot strategy ``darts``: DARTS (first- and second-order), its Gumbel-softmax variant, and NNI's DartsTrainer."""
from __future__ import annotations

import nas_core
from nas_strategy_darts.strategy import DARTS
from nas_strategy_darts.trainer import DartsTrainer

__all__ = ["DartsTrainer", "DARTS"]


@nas_core.hookimpl
def register_strategies(register):
    register("darts", DARTS)

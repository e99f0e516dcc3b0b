"""nas-core one-shot strategy ``enas``: ENAS (a recurrent controller, REINFORCE, shared weights)."""
from __future__ import annotations

import nas_core
from nas_strategy_enas.controller import Controller
from nas_strategy_enas.strategy import ENAS
from nas_strategy_enas.trainer import EnasTrainer

__all__ = ["EnasTrainer", "ENAS", "Controller"]


@nas_core.hookimpl
def register_strategies(register):
    register("enas", ENAS)

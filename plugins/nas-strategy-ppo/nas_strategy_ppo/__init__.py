"""nas-core strategy ``ppo``: an autoregressive policy over the labels trained with PPO."""
from __future__ import annotations

import nas_core
from nas_strategy_ppo.strategy import PolicyBasedRL

__all__ = ["PolicyBasedRL"]


@nas_core.hookimpl
def register_strategies(register):
    register("ppo", PolicyBasedRL)

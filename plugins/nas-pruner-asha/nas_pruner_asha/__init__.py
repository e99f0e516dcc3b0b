"""nas-core pruner ``asha``: asynchronous successive halving (Li et al. 2020)."""
from __future__ import annotations

import nas_core
from nas_pruner_asha.pruner import ASHA

__all__ = ["ASHA"]


@nas_core.hookimpl
def register_pruners(register):
    register("asha", ASHA)

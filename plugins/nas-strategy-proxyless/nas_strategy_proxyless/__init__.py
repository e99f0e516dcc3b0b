"""nas-core one-shot strategy ``proxyless``: ProxylessNAS (binarized paths, binary-gate gradients)."""
from __future__ import annotations

import nas_core
from nas_strategy_proxyless.gates import binary_gates, sample_paths
from nas_strategy_proxyless.losses import HardwareLoss
from nas_strategy_proxyless.strategy import ProxylessNAS
from nas_strategy_proxyless.trainer import ProxylessTrainer

__all__ = ["ProxylessTrainer", "ProxylessNAS", "HardwareLoss", "binary_gates", "sample_paths"]


@nas_core.hookimpl
def register_strategies(register):
    register("proxyless", ProxylessNAS)

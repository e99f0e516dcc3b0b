"""ProxylessNAS' hardware-aware losses (seed 003): ``'mul#log'`` and ``'add#linear'``."""
from __future__ import annotations

from typing import Any, Mapping

import torch

from nas_core.errors import ConfigError, ConfigTypeError

__all__ = ["HardwareLoss", "LOSS_TYPES"]

#: loss type -> the keys its grad_reg_loss_params need, and their defaults (official implementation)
LOSS_TYPES: dict[str, dict[str, float]] = {"mul#log": {"alpha": 0.2, "beta": 0.3}, "add#linear": {"lambda": 0.1}}


class HardwareLoss:
    """``'mul#log'``: ``alpha * CE * (log E[lat] / log ref) ** beta``;
    ``'add#linear'``: ``CE + lambda * (E[lat] - ref) / ref``.

    ``E[lat]`` is the profiler's expectation under the architecture probabilities (a torch
    scalar, so the term's gradient reaches the logits); ``ref`` is ``ref_latency`` in the
    profiler's unit.
    """

    def __init__(self, loss_type: str, params: Mapping[str, Any] | None, ref: float) -> None:
        if loss_type not in LOSS_TYPES:
            raise ConfigError(
                f"unknown grad_reg_loss_type {loss_type!r}; use 'mul#log' (alpha * CE * (log E[lat] / log ref) ** beta), "
                "'add#linear' (CE + lambda * (E[lat] - ref) / ref) or None (no hardware loss)."
            )
        needed = LOSS_TYPES[loss_type]
        if params is None:
            params = dict(needed)
        if not isinstance(params, Mapping):
            raise ConfigTypeError(f"grad_reg_loss_params must be a dict such as {needed}, got {type(params).__name__}.")
        missing = [k for k in needed if k not in params]
        if missing:
            raise ConfigError(
                f"grad_reg_loss_type {loss_type!r} needs grad_reg_loss_params with {sorted(needed)}; missing "
                f"{missing}. For example grad_reg_loss_params={needed}."
            )
        unknown = [k for k in params if k not in needed]
        if unknown:
            raise ConfigError(f"grad_reg_loss_params for {loss_type!r} take only {sorted(needed)}; unknown keys {unknown}.")
        for k, v in params.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"grad_reg_loss_params[{k!r}] must be a number, got {v!r}.")
        if isinstance(ref, bool) or not isinstance(ref, (int, float)) or not ref > 0:
            raise ConfigError(f"ref_latency must be a positive number in the profiler's unit, got {ref!r}.")
        if loss_type == "mul#log" and ref <= 1:
            raise ConfigError(f"'mul#log' divides by log(ref_latency); ref_latency must be above 1, got {ref!r}.")
        self.loss_type = loss_type
        self.params = {k: float(v) for k, v in params.items()}
        self.ref = float(ref)

    def __call__(self, ce: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
        if self.loss_type == "mul#log":
            ratio = torch.log(expected) / torch.log(torch.tensor(self.ref, dtype=expected.dtype))
            return self.params["alpha"] * ce * ratio ** self.params["beta"]
        return ce + self.params["lambda"] * (expected - self.ref) / self.ref

    def __repr__(self) -> str:
        return f"HardwareLoss({self.loss_type!r}, {self.params}, ref={self.ref:g})"

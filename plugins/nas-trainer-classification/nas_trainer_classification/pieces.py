"""The user's loss, metrics function and optimizer object in the classification trainer."""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from nas_core.errors import ConfigError
from nas_core.training import metrics_dict

__all__ = ["check_pieces", "BatchAverages"]


def check_pieces(loss: Any, metrics: Any, objective: Any) -> None:
    """Errors for a loss or metrics that cannot be called, or an objective that is not a name."""
    if loss is not None and not callable(loss):
        raise ConfigError(f"trainer loss must be callable (output, target) -> tensor, e.g. nn.CrossEntropyLoss(); got "
                          f"{type(loss).__name__}.")
    if metrics is not None and not callable(metrics):
        raise ConfigError(f"trainer metrics must be a function (output, target) -> float or dict of floats; got "
                          f"{type(metrics).__name__}.")
    if objective is not None and (not isinstance(objective, str) or not objective):
        raise ConfigError(f"trainer objective must be a metric name, got {objective!r}.")


class BatchAverages:
    """Sums per-batch loss and metrics weighted by batch size; :meth:`result` gives their means."""

    def __init__(self, loss: Callable[[Any, Any], torch.Tensor] | None, metrics: Callable[[Any, Any], Any] | None) -> None:
        self.loss, self.metrics = loss, metrics
        self.sums: dict[str, float] = {}
        self.total = 0

    def add(self, out: torch.Tensor, y: torch.Tensor) -> None:
        n = len(y)
        row = {"loss": float(self.loss(out, y)) if self.loss is not None else
               float(nn.functional.cross_entropy(out, y))}
        if self.metrics is not None:
            row.update(metrics_dict(self.metrics(out, y), "metric"))
        for k, v in row.items():
            self.sums[k] = self.sums.get(k, 0.0) + v * n
        self.total += n

    def result(self) -> dict[str, float]:
        return {k: v / self.total for k, v in self.sums.items()} if self.total else {}

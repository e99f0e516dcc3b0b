"""Trainer: owns data, loss, optimizer and metrics for a task."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterable

import torch
from torch import nn

__all__ = ["Trainer"]


class Trainer(ABC):
    """Trains and evaluates a frozen model (multi-trial) and exposes its pieces (one-shot).

    :meth:`fit` returns a dict of metrics; :attr:`objective` names the one the search
    maximises (e.g. ``"accuracy"``). One-shot strategies use :meth:`train_loader`,
    :meth:`val_loader`, :meth:`loss`, :meth:`make_optimizer` and :meth:`evaluate`.
    """

    objective: ClassVar[str] = "accuracy"

    @abstractmethod
    def fit(self, model: nn.Module) -> dict[str, float]:
        """Train ``model`` from scratch and return its validation metrics."""

    def train_loader(self) -> Iterable[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not expose a training loader.")

    def val_loader(self) -> Iterable[Any]:
        raise NotImplementedError(f"{type(self).__name__} does not expose a validation loader.")

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not expose a loss.")

    def make_optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        raise NotImplementedError(f"{type(self).__name__} does not expose an optimizer.")

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        raise NotImplementedError(f"{type(self).__name__} does not expose evaluation.")

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

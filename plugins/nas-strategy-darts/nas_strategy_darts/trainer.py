"""DartsTrainer: NNI's DARTS trainer arguments over the :class:`~nas_strategy_darts.DARTS` strategy."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

from nas_core.oneshot.adapter import TrainerAdapter
from nas_core.oneshot.trainers import OneShotTrainer, check_no_mutator

from nas_strategy_darts.strategy import DARTS

__all__ = ["DartsTrainer"]


class DartsTrainer(OneShotTrainer):
    """``DartsTrainer(model, loss, metrics, optimizer, num_epochs, dataset_train, dataset_valid, ...)`` as in NNI.

    ``dataset_train`` is split in two halves (weights, architecture), as DARTS does;
    ``dataset_valid`` scores the exported architecture. ``arc_learning_rate`` is the Adam
    learning rate of the architecture logits; ``unrolled=True`` is second-order DARTS.
    Keyword-only extras go to :class:`DARTS` (``penalty``, ``gumbel``, ``warmup_epochs``,
    ``seed``...).
    """

    def __init__(self, model: nn.Module, loss: Callable[[Any, Any], torch.Tensor] | None = None,
                 metrics: Callable[[Any, Any], Any] | None = None, optimizer: torch.optim.Optimizer | None = None,
                 num_epochs: int = 50, dataset_train: Any = None, dataset_valid: Any = None, mutator: Any = None,
                 batch_size: int = 64, workers: int = 4, device: Any = None, log_frequency: int | None = None,
                 callbacks: Sequence[Any] | None = None, arc_learning_rate: float = 3.0e-4, unrolled: bool = False,
                 **strategy_options: Any) -> None:
        check_no_mutator(mutator, "DartsTrainer")
        seed = strategy_options.get("seed", 0)
        adapter = TrainerAdapter(loss=loss, metrics=metrics, optimizer=optimizer, dataset_train=dataset_train,
                                 dataset_valid=dataset_valid, batch_size=batch_size, workers=workers, device=device,
                                 log_frequency=log_frequency, num_epochs=num_epochs, seed=seed)
        strategy = DARTS(epochs=num_epochs, arch_lr=arc_learning_rate, unrolled=unrolled, **strategy_options)
        super().__init__(model, strategy, adapter, callbacks)

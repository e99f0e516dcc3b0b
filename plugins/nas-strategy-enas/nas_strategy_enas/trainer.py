"""EnasTrainer: NNI's ENAS trainer arguments over the :class:`~nas_strategy_enas.ENAS` strategy."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

from nas_core.oneshot.adapter import TrainerAdapter
from nas_core.oneshot.trainers import OneShotTrainer, check_no_mutator, warn_unsupported

from nas_strategy_enas.strategy import ENAS

__all__ = ["EnasTrainer"]


class EnasTrainer(OneShotTrainer):
    """``EnasTrainer(model, loss, metrics, reward_function, optimizer, num_epochs, dataset_train, dataset_valid, ...)``.

    As in NNI, shared weights train on ``dataset_train`` and the controller's reward is
    measured on ``dataset_valid``. ``reward_function(output, target) -> float`` defaults to
    top-1 accuracy. ``entropy_weight``, ``baseline_decay``, ``mutator_lr`` (the controller's
    Adam rate) and ``mutator_steps`` (controller steps per epoch) keep NNI's meaning;
    ``skip_weight``, ``child_steps``, ``mutator_steps_aggregate``, ``aux_weight`` and
    ``test_arc_per_epoch`` belong to NNI's own controller and macro space and warn when
    set. Keyword-only extras go to :class:`ENAS` (``penalty``, ``filter``, ``seed``...).
    """

    def __init__(self, model: nn.Module, loss: Callable[[Any, Any], torch.Tensor] | None = None,
                 metrics: Callable[[Any, Any], Any] | None = None,
                 reward_function: Callable[[Any, Any], float] | None = None,
                 optimizer: torch.optim.Optimizer | None = None, num_epochs: int = 10, dataset_train: Any = None,
                 dataset_valid: Any = None, mutator: Any = None, batch_size: int = 64, workers: int = 4,
                 device: Any = None, log_frequency: int | None = None, callbacks: Sequence[Any] | None = None,
                 entropy_weight: float = 0.0001, skip_weight: float | None = None, baseline_decay: float = 0.999,
                 child_steps: int | None = None, mutator_lr: float = 0.00035,
                 mutator_steps_aggregate: int | None = None, mutator_steps: int = 50, aux_weight: float | None = None,
                 test_arc_per_epoch: int | None = None, **strategy_options: Any) -> None:
        check_no_mutator(mutator, "EnasTrainer")
        warn_unsupported("EnasTrainer", skip_weight=skip_weight, child_steps=child_steps,
                         mutator_steps_aggregate=mutator_steps_aggregate, aux_weight=aux_weight,
                         test_arc_per_epoch=test_arc_per_epoch)
        seed = strategy_options.get("seed", 0)
        adapter = TrainerAdapter(loss=loss, metrics=metrics, optimizer=optimizer, dataset_train=dataset_train,
                                 dataset_valid=dataset_valid, batch_size=batch_size, workers=workers, device=device,
                                 log_frequency=log_frequency, num_epochs=num_epochs, seed=seed)
        arch_data = strategy_options.pop("arch_data", "val" if dataset_valid is not None else "split")
        strategy = ENAS(epochs=num_epochs, reward_metric=reward_function or "accuracy", entropy_weight=entropy_weight,
                        baseline_decay=baseline_decay, ctrl_lr=mutator_lr, ctrl_steps=mutator_steps,
                        arch_data=arch_data, **strategy_options)
        super().__init__(model, strategy, adapter, callbacks)

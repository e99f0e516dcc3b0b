"""ProxylessTrainer: seed 003's arguments over the :class:`~nas_strategy_proxyless.ProxylessNAS` strategy."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

from nas_core.oneshot.adapter import TrainerAdapter
from nas_core.oneshot.trainers import OneShotTrainer

from nas_strategy_proxyless.strategy import ProxylessNAS

__all__ = ["ProxylessTrainer"]


class ProxylessTrainer(OneShotTrainer):
    """``ProxylessTrainer(model, loss, metrics, optimizer, num_epochs, dataset, warmup_epochs, ...)`` (seed 003).

    ``dataset`` is split for the weights and the architecture. ``applied_hardware``: one of
    nn-Meter's four devices, ``"flops"``, any profiler registry name or a profiler object
    (see :mod:`nas_strategy_proxyless.hardware`), built on the model with ``dummy_input``;
    ``ref_latency`` is in that profiler's unit. ``device`` may list GPUs: the supernet is
    then wrapped in DataParallel. Keyword-only extras go to :class:`ProxylessNAS`
    (``entropy_weight``, ``penalty``, ``seed``...).
    """

    def __init__(self, model: nn.Module, loss: Callable[[Any, Any], torch.Tensor] | None = None,
                 metrics: Callable[[Any, Any], Any] | None = None, optimizer: torch.optim.Optimizer | None = None,
                 num_epochs: int = 120, dataset: Any = None, warmup_epochs: int = 0, batch_size: int = 64,
                 workers: int = 4, device: Any = None, log_frequency: int | None = None,
                 arc_learning_rate: float = 1e-3, grad_reg_loss_type: str | None = "add#linear",
                 grad_reg_loss_params: dict[str, float] | None = None, applied_hardware: Any = None,
                 dummy_input: Any = (1, 3, 224, 224), ref_latency: float = 65.0,
                 callbacks: Sequence[Any] | None = None, **strategy_options: Any) -> None:
        seed = strategy_options.get("seed", 0)
        adapter = TrainerAdapter(loss=loss, metrics=metrics, optimizer=optimizer, dataset=dataset,
                                 batch_size=batch_size, workers=workers, device=device, log_frequency=log_frequency,
                                 num_epochs=num_epochs, seed=seed)
        strategy = ProxylessNAS(epochs=num_epochs, warmup_epochs=warmup_epochs, arch_lr=arc_learning_rate,
                                grad_reg_loss_type=grad_reg_loss_type, grad_reg_loss_params=grad_reg_loss_params,
                                applied_hardware=applied_hardware, dummy_input=dummy_input, ref_latency=ref_latency,
                                **strategy_options)
        super().__init__(model, strategy, adapter, callbacks)

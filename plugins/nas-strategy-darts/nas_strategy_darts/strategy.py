"""DARTS: every candidate runs, weighted by the softmax of the architecture logits."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from nas_core.errors import ConfigError
from nas_core.oneshot import BaseOneShot, ExpectationProfilerPenalty, Supernet, check_penalty, forever, to_device
from nas_core.oneshot.base import check_positive
from nas_core.oneshot.export import ExportConfig

from nas_strategy_darts.unrolled import mixer, unrolled_arch_grad

__all__ = ["DARTS"]


class DARTS(BaseOneShot):
    """First-order DARTS (Liu et al., 2019), optionally with Gumbel-softmax sampling (GDAS/SNAS style).

    Each step alternates an architecture step (Adam on the logits, on a batch of the
    architecture split) and a weight step (the trainer's optimizer on the weight split);
    both run the weighted mixture of every candidate. ``gumbel=True`` replaces the softmax
    weights by Gumbel-softmax samples whose temperature anneals from ``tau_max`` to
    ``tau_min``. ``penalty`` is an :class:`ExpectationProfilerPenalty`: it is added to the
    architecture loss on the expected cost under the softmax probabilities, so its gradient
    reaches the logits. ``unrolled=True`` is second-order DARTS: the architecture gradient
    goes through one virtual weight step (:mod:`nas_strategy_darts.unrolled`). Warm-up
    (default: the first 40 % of the epochs) trains the weights on fair single paths with the
    architecture frozen; :meth:`export` is the checked export (``export_mode="argmax"``: the
    argmax of the logits), see :class:`BaseOneShot`.
    """

    name = "darts"
    weighted = True
    mixture_weights = True  # the checked export first tunes the weights on single paths (ExportConfig.tune_steps)

    def __init__(self, *, epochs: int = 10, arch_lr: float = 3e-4, arch_weight_decay: float = 1e-3,
                 penalty: ExpectationProfilerPenalty | None = None, gumbel: bool = False, tau_max: float = 10.0,
                 tau_min: float = 0.1, warmup_epochs: int | None = None, seed: int = 0, arch_data: str = "split",
                 arch_fraction: float = 0.5, gradient_clip: float | None = 5.0, unrolled: bool = False,
                 export_mode: str = "checked", export_config: ExportConfig | None = None) -> None:
        super().__init__(epochs=epochs, seed=seed, arch_data=arch_data, arch_fraction=arch_fraction,
                         gradient_clip=gradient_clip, warmup_epochs=warmup_epochs, export_mode=export_mode,
                         export_config=export_config)
        check_penalty("DARTS", penalty, ExpectationProfilerPenalty)
        self.penalty = penalty
        self.arch_lr = check_positive("DARTS", "arch_lr", arch_lr)
        self.arch_weight_decay = check_positive("DARTS", "arch_weight_decay", arch_weight_decay, allow_zero=True)
        self.gumbel = bool(gumbel)
        self.tau_max = check_positive("DARTS", "tau_max", tau_max)
        self.tau_min = check_positive("DARTS", "tau_min", tau_min)
        if self.tau_min > self.tau_max:
            raise ConfigError(f"DARTS tau_min ({tau_min}) is above tau_max ({tau_max}); swap them.")
        self.unrolled = bool(unrolled)

    def _tau(self, epoch: int) -> float:
        if self.epochs == 1:
            return self.tau_min
        return self.tau_max - (self.tau_max - self.tau_min) * epoch / (self.epochs - 1)

    def mix_weights(self, supernet: Supernet, tau: float) -> dict[str, torch.Tensor]:
        """Per-label mixing weights: softmax, or a Gumbel-softmax sample at temperature ``tau``."""
        if not self.gumbel:
            return supernet.arch.probs()
        return {l: F.gumbel_softmax(supernet.arch[l], tau=tau, hard=False) for l in supernet.arch.labels}

    def arch_step(self, supernet: Supernet, trainer: Any, batch: Any, optimizer: torch.optim.Optimizer,
                  tau: float, device: torch.device) -> float:
        """One architecture step on ``batch``; returns the architecture loss."""
        x, y = to_device(batch, device)
        optimizer.zero_grad(set_to_none=True)
        supernet.set_weights(self.mix_weights(supernet, tau))
        loss = trainer.loss(supernet(x), y)
        if self.penalty is not None:
            loss = self.penalty(loss, supernet.arch.probs())
        loss.backward(inputs=supernet.arch_parameters())
        optimizer.step()
        return float(loss.detach())

    def unrolled_arch_step(self, supernet: Supernet, trainer: Any, train_batch: Any, val_batch: Any,
                           optimizer: torch.optim.Optimizer, w_optimizer: torch.optim.Optimizer, tau: float,
                           device: torch.device) -> float:
        """One second-order architecture step (:mod:`nas_strategy_darts.unrolled`); returns the validation loss."""
        xi = float(w_optimizer.param_groups[0]["lr"])
        grads, loss = unrolled_arch_grad(supernet, trainer.loss, train_batch, val_batch, xi,
                                         mixer(supernet, self.gumbel, tau), self.penalty, device)
        optimizer.zero_grad(set_to_none=True)
        for p, g in zip(supernet.arch_parameters(), grads):
            p.grad = g
        optimizer.step()
        return loss

    def _search(self, supernet: Supernet, trainer: Any, weight_data: Any, arch_data: Any, device: torch.device) -> None:
        w_opt = trainer.make_optimizer(supernet.weight_parameters())
        a_opt = torch.optim.Adam(supernet.arch_parameters(), lr=self.arch_lr, betas=(0.5, 0.999),
                                 weight_decay=self.arch_weight_decay)
        arch_iter = forever(arch_data)
        weights = supernet.weight_parameters()
        for epoch in range(self.epochs):
            tau = self._tau(epoch)
            supernet.train()
            w_total, a_total, steps = 0.0, 0.0, 0
            for batch in weight_data:
                x, y = to_device(batch, device)
                if epoch < self.warmup_epochs:
                    w_total += self._warmup_step(supernet, trainer, x, y, w_opt, weights)
                    steps += 1
                    continue
                if self.unrolled:
                    a_total += self.unrolled_arch_step(supernet, trainer, batch, next(arch_iter), a_opt, w_opt, tau, device)
                else:
                    a_total += self.arch_step(supernet, trainer, next(arch_iter), a_opt, tau, device)
                supernet.set_weights({l: w.detach() for l, w in self.mix_weights(supernet, tau).items()})
                w_total += self._weight_step(supernet, trainer, x, y, w_opt, weights)
                steps += 1
            info: dict[str, Any] = {"weight_loss": w_total / max(steps, 1), "arch_loss": a_total / max(steps, 1)}
            if self.penalty is not None:
                with torch.no_grad():
                    info["expected_cost"] = float(self.penalty.expected_cost(supernet.arch.probs()))
            self._end_epoch(epoch, info)

    def __repr__(self) -> str:
        return (f"DARTS(epochs={self.epochs}, arch_lr={self.arch_lr}, gumbel={self.gumbel}, unrolled={self.unrolled}, "
                f"penalty={self.penalty!r}, "
                f"seed={self.seed})")

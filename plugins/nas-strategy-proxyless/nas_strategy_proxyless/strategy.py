"""ProxylessNAS: one sampled path per weight step, binary gates for the architecture step."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nas_core.errors import ConfigError

from nas_core.oneshot import BaseOneShot, ExpectationProfilerPenalty, Supernet, check_penalty, forever, to_device
from nas_core.oneshot.base import check_positive
from nas_core.oneshot.export import ExportConfig

from nas_strategy_proxyless.gates import binary_gates, sample_paths
from nas_strategy_proxyless.hardware import resolve_hardware
from nas_strategy_proxyless.losses import HardwareLoss

__all__ = ["ProxylessNAS"]


def _dummy(dummy_input: Any) -> Any:
    if isinstance(dummy_input, (list, tuple)) and dummy_input and all(isinstance(d, int) for d in dummy_input):
        return torch.zeros(*dummy_input)
    return dummy_input


class ProxylessNAS(BaseOneShot):
    """ProxylessNAS (Cai et al., 2019), gradient version.

    *Weight step*: one path per label is drawn from ``softmax(alpha)`` and only it runs
    (sliced weights for width and kernel choices), so activations are those of a single
    network. *Architecture step*: binary gates pick an active path per label; in two-path
    mode a second sampled path runs without gradient (only its output is kept), and the
    gradient of each gate reaches the logits through the paper's estimate
    (:func:`~nas_strategy_proxyless.gates.binary_gates`).

    Hardware: ``penalty=ExpectationProfilerPenalty(profiler, baseline)``, or seed 003's
    arguments ``applied_hardware`` (a profiler registry name such as ``"flops"``, built on
    the space with ``dummy_input``, or a profiler object), ``grad_reg_loss_type``
    (``'mul#log'``, ``'add#linear'`` or None), ``grad_reg_loss_params`` and ``ref_latency``
    (in the profiler's unit). Both use the profiler's exact expectation under the softmax
    probabilities, so their gradient reaches the logits. :meth:`export` is the argmax.

    ``entropy_weight`` (default 0) adds the mean entropy of the label distributions to the
    architecture loss, ramped linearly to full weight over the epochs: the distributions
    commit to one path, so the exported argmax costs what the penalised expectation costs
    (a penalty alone can balance a broad mixture on its target while the argmax is far off).
    """

    name = "proxyless"
    weighted = True

    def __init__(self, *, epochs: int = 10, warmup_epochs: int | None = None, arch_lr: float = 1e-3,
                 arch_weight_decay: float = 0.0, penalty: ExpectationProfilerPenalty | None = None,
                 grad_reg_loss_type: str | None = "add#linear", grad_reg_loss_params: dict[str, float] | None = None,
                 applied_hardware: str | Any = None, dummy_input: Any = None, ref_latency: float = 65.0,
                 two_path: bool = True, entropy_weight: float = 0.0, seed: int = 0, arch_data: str = "split", arch_fraction: float = 0.5,
                 gradient_clip: float | None = 5.0, export_mode: str = "checked",
                 export_config: ExportConfig | None = None) -> None:
        super().__init__(epochs=epochs, seed=seed, arch_data=arch_data, arch_fraction=arch_fraction,
                         gradient_clip=gradient_clip, warmup_epochs=warmup_epochs, export_mode=export_mode,
                         export_config=export_config)
        check_penalty("ProxylessNAS", penalty, ExpectationProfilerPenalty)
        self.penalty = penalty
        self.arch_lr = check_positive("ProxylessNAS", "arch_lr", arch_lr)
        self.arch_weight_decay = check_positive("ProxylessNAS", "arch_weight_decay", arch_weight_decay, allow_zero=True)
        self.two_path = bool(two_path)
        self.entropy_weight = check_positive("ProxylessNAS", "entropy_weight", entropy_weight, allow_zero=True)
        self._entropy_scale = 0.0
        self.hardware_loss = None if grad_reg_loss_type is None else HardwareLoss(
            grad_reg_loss_type, grad_reg_loss_params, ref_latency)
        self.grad_reg_loss_type = grad_reg_loss_type
        self.applied_hardware = applied_hardware
        self.dummy_input = _dummy(dummy_input)
        if applied_hardware is not None:
            if penalty is not None:
                raise ConfigError(
                    "ProxylessNAS got both penalty= and applied_hardware=; give one hardware term: penalty="
                    "ExpectationProfilerPenalty(profiler, baseline), or applied_hardware with grad_reg_loss_type."
                )
            if grad_reg_loss_type is None:
                raise ConfigError(
                    f"ProxylessNAS got applied_hardware={applied_hardware!r} but grad_reg_loss_type=None, so nothing "
                    "would use it; set grad_reg_loss_type to 'add#linear' or 'mul#log'."
                )
            if isinstance(applied_hardware, str) and self.dummy_input is None:
                raise ConfigError(
                    f"ProxylessNAS applied_hardware={applied_hardware!r} builds the profiler on the space and needs "
                    "dummy_input= (a tensor, or a shape such as (1, 3, 224, 224))."
                )
        self.profiler: Any = None

    def _prepare(self, model_space: nn.Module, trainer: Any) -> None:
        hw = self.applied_hardware
        if hw is None:
            self.profiler = None
            return
        self.profiler = resolve_hardware(hw, model_space, self.dummy_input)

    def expected_cost(self, supernet: Supernet) -> torch.Tensor | None:
        """The hardware profiler's expected cost under the current probabilities (None without one)."""
        if self.profiler is None:
            return None
        return self.profiler.expectation(supernet.arch.probs())

    def arch_step(self, supernet: Supernet, trainer: Any, batch: Any, optimizer: torch.optim.Optimizer,
                  generator: torch.Generator, device: torch.device) -> float:
        """One architecture step with binary gates; returns the loss."""
        x, y = to_device(batch, device)
        optimizer.zero_grad(set_to_none=True)
        gates, with_grad, without = {}, {}, {}
        for label in supernet.arch.labels:
            alpha = supernet.arch[label]
            active, paths = sample_paths(alpha, generator, self.two_path)
            gates[label] = binary_gates(alpha, active, paths)
            with_grad[label] = [active]
            without[label] = [p for p in paths if p != active]
        supernet.set_weights(gates, with_grad, without)
        loss = trainer.loss(supernet(x), y)
        if self.hardware_loss is not None and self.profiler is not None:
            loss = self.hardware_loss(loss, self.expected_cost(supernet))
        if self.penalty is not None:
            loss = self.penalty(loss, supernet.arch.probs())
        if self.entropy_weight and self._entropy_scale:
            loss = loss + self._entropy_scale * self.entropy_weight * self.entropy(supernet)
        loss.backward(inputs=supernet.arch_parameters())
        optimizer.step()
        return float(loss.detach())

    @staticmethod
    def entropy(supernet: Supernet) -> torch.Tensor:
        """Mean entropy (nats) of the labels' architecture distributions."""
        terms = [-(p * torch.log(p + 1e-12)).sum() for p in supernet.arch.probs().values()]
        return torch.stack(terms).mean()

    def sample(self, supernet: Supernet, generator: torch.Generator) -> dict[str, Any]:
        """One path per label, drawn from the softmax of its logits."""
        out = {}
        for label in supernet.arch.labels:
            probs = torch.softmax(supernet.arch[label].detach().float().cpu(), -1)
            out[label] = supernet.arch.domains[label][int(torch.multinomial(probs, 1, generator=generator))]
        return out

    def _search(self, supernet: Supernet, trainer: Any, weight_data: Any, arch_data: Any, device: torch.device) -> None:
        w_opt = trainer.make_optimizer(supernet.weight_parameters())
        a_opt = torch.optim.Adam(supernet.arch_parameters(), lr=self.arch_lr, betas=(0.0, 0.999), eps=1e-8,
                                 weight_decay=self.arch_weight_decay)
        gen = torch.Generator().manual_seed(self.seed + 17)
        arch_iter = forever(arch_data)
        weights = supernet.weight_parameters()
        for epoch in range(self.epochs):
            supernet.train()
            self._entropy_scale = (epoch + 1) / self.epochs  # ramps up: commit to one path by the end
            w_total, a_total, steps = 0.0, 0.0, 0
            for batch in weight_data:
                x, y = to_device(batch, device)
                if epoch < self.warmup_epochs:
                    w_total += self._warmup_step(supernet, trainer, x, y, w_opt, weights)
                    steps += 1
                    continue
                supernet.set_sample(self.sample(supernet, gen))
                w_total += self._weight_step(supernet, trainer, x, y, w_opt, weights)
                a_total += self.arch_step(supernet, trainer, next(arch_iter), a_opt, gen, device)
                steps += 1
            info: dict[str, Any] = {"weight_loss": w_total / max(steps, 1), "arch_loss": a_total / max(steps, 1)}
            with torch.no_grad():
                if self.penalty is not None:
                    info["expected_cost"] = float(self.penalty.expected_cost(supernet.arch.probs()))
                elif self.profiler is not None:
                    info["expected_cost"] = float(self.expected_cost(supernet))
            self._end_epoch(epoch, info)

    def _unchecked_objective(self) -> bool:
        """Seed 003's hardware term (``applied_hardware`` with ``grad_reg_loss_type``) trades accuracy for cost
        without a bound: ranking candidates by accuracy alone would ignore it, so the argmax is exported."""
        return super()._unchecked_objective() or (self.profiler is not None and self.hardware_loss is not None)

    def __repr__(self) -> str:
        hw = f", applied_hardware={self.applied_hardware!r}, {self.hardware_loss!r}" if self.applied_hardware else ""
        return f"ProxylessNAS(epochs={self.epochs}, arch_lr={self.arch_lr}, penalty={self.penalty!r}{hw}, seed={self.seed})"

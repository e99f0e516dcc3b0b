"""ENAS: shared weights trained on controller samples; the controller learns from validation reward."""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import torch

from nas_core.errors import ConfigError, ConfigTypeError

from nas_core.oneshot import (
    BaseOneShot, NoFeasibleSampleError, RangeProfilerFilter, SampleProfilerPenalty, Supernet, check_penalty, forever,
    to_device,
)
from nas_core.oneshot.base import check_positive, check_positive_int
from nas_core.oneshot.export import Budget, ExportConfig

from nas_strategy_enas.controller import Controller

__all__ = ["ENAS"]


class ENAS(BaseOneShot):
    """ENAS (Pham et al., 2018) on any model space.

    Each epoch: (1) weight phase: for every batch of the weight split, the controller
    samples one architecture, which alone runs and trains (one path, sliced weights);
    (2) controller phase: ``ctrl_steps`` times, a sampled architecture is scored on a batch
    of the architecture split (no gradient) and the controller takes a REINFORCE step with
    an exponential-moving-average baseline and an entropy bonus.

    ``reward_metric``: ``"accuracy"`` (top-1 on the batch, default), ``"loss"`` (negated), or a
    function ``(output, target) -> float`` (NNI's ``reward_function``).
    ``penalty``: a :class:`SampleProfilerPenalty` shaping the reward by each sample's cost.
    ``filter``: a :class:`RangeProfilerFilter` (or any ``sample -> bool``): illegal samples
    are redrawn before they are trained or scored, never trained; after ``filter.patience``
    misses in a row, :class:`NoFeasibleSampleError`. :meth:`export` decodes the controller
    greedily (argmax at every step); if a filter rejects that, the most likely legal one of
    ``export_candidates`` seeded samples is exported.
    """

    name = "enas"
    weighted = False

    def __init__(self, *, epochs: int = 10, ctrl_steps: int = 20, ctrl_lr: float = 3.5e-3, entropy_weight: float = 1e-4,
                 baseline_decay: float = 0.95, hidden: int = 64, cell: str = "lstm",
                 reward_metric: str | Callable[[Any, Any], float] = "accuracy",
                 penalty: SampleProfilerPenalty | None = None,
                 filter: RangeProfilerFilter | Callable[[Mapping[str, Any]], bool] | None = None,  # noqa: A002
                 export_candidates: int = 256, seed: int = 0, arch_data: str = "split", arch_fraction: float = 0.5,
                 gradient_clip: float | None = 5.0, warmup_epochs: int | None = None, export_mode: str = "checked",
                 export_config: ExportConfig | None = None) -> None:
        super().__init__(epochs=epochs, seed=seed, arch_data=arch_data, arch_fraction=arch_fraction,
                         gradient_clip=gradient_clip, warmup_epochs=warmup_epochs, export_mode=export_mode,
                         export_config=export_config)
        check_penalty("ENAS", penalty, SampleProfilerPenalty)
        if filter is not None and not callable(filter):
            raise ConfigTypeError(
                f"ENAS filter must be a RangeProfilerFilter(profiler, min, max) or a function sample -> bool, got "
                f"{type(filter).__name__}."
            )
        if not callable(reward_metric) and reward_metric not in ("accuracy", "loss"):
            raise ConfigError(f"ENAS reward_metric must be 'accuracy', 'loss' or a function (output, target) -> float, "
                             f"got {reward_metric!r}.")
        if cell not in ("lstm", "gru"):
            raise ConfigError(f"ENAS cell must be 'lstm' or 'gru', got {cell!r}.")
        self.penalty = penalty
        self.filter = filter
        self.ctrl_steps = check_positive_int("ENAS", "ctrl_steps", ctrl_steps)
        self.ctrl_lr = check_positive("ENAS", "ctrl_lr", ctrl_lr)
        self.entropy_weight = check_positive("ENAS", "entropy_weight", entropy_weight, allow_zero=True)
        self.baseline_decay = check_positive("ENAS", "baseline_decay", baseline_decay, allow_zero=True)
        if self.baseline_decay >= 1:
            raise ConfigError(f"ENAS baseline_decay must be below 1, got {baseline_decay!r}.")
        self.hidden = check_positive_int("ENAS", "hidden", hidden)
        self.cell = cell
        self.reward_metric = reward_metric
        self.export_candidates = check_positive_int("ENAS", "export_candidates", export_candidates)
        self.controller: Controller | None = None

    # -- sampling ------------------------------------------------------------------------------
    def _decode(self, supernet: Supernet, choices: list[int]) -> dict[str, Any]:
        return {l: supernet.arch.domains[l][i] for l, i in zip(supernet.arch.labels, choices)}

    def _legal(self, sample: Mapping[str, Any]) -> bool:
        return self.filter is None or bool(self.filter(sample))

    def _trainable(self, sample: Mapping[str, Any]) -> bool:
        return self._legal(sample)

    def draw(self, supernet: Supernet, generator: torch.Generator) -> tuple[dict[str, Any], torch.Tensor, torch.Tensor]:
        """A legal sample from the controller, with its log-probability and entropy."""
        assert self.controller is not None

        def one() -> tuple[dict[str, Any], torch.Tensor, torch.Tensor]:
            choices, logp, ent = self.controller(generator)
            return self._decode(supernet, choices), logp, ent

        if self.filter is None:
            return one()
        if isinstance(self.filter, RangeProfilerFilter):
            return self.filter.draw(one, key=lambda out: out[0])
        for _ in range(100):
            out = one()
            if self._legal(out[0]):
                return out
        raise NoFeasibleSampleError("ENAS filter rejected 100 samples in a row; loosen the filter.")

    # -- training -----------------------------------------------------------------------------
    def _reward(self, supernet: Supernet, trainer: Any, batch: Any, sample: Mapping[str, Any],
                device: torch.device) -> float:
        x, y = to_device(batch, device)
        supernet.set_sample(sample)
        with torch.no_grad():
            out = supernet(x)
            if callable(self.reward_metric):  # NNI's reward_function(output, target)
                reward = float(self.reward_metric(out, y))
            elif self.reward_metric == "accuracy":
                reward = float((out.argmax(dim=1) == y).float().mean())
            else:
                reward = -float(trainer.loss(out, y))
        if self.penalty is not None:
            reward = float(self.penalty.shape_reward(reward, sample))
        return reward

    def _search(self, supernet: Supernet, trainer: Any, weight_data: Any, arch_data: Any, device: torch.device) -> None:
        gen = torch.Generator().manual_seed(self.seed + 29)
        sizes = [len(supernet.arch.domains[l]) for l in supernet.arch.labels]
        self.controller = Controller(sizes, hidden=self.hidden, cell=self.cell)
        c_opt = torch.optim.Adam(self.controller.parameters(), lr=self.ctrl_lr)
        w_opt = trainer.make_optimizer(supernet.weight_parameters())
        weights = supernet.weight_parameters()
        arch_iter = forever(arch_data)
        baseline: float | None = None
        for epoch in range(self.epochs):
            supernet.train()
            w_total, steps = 0.0, 0
            for batch in weight_data:
                x, y = to_device(batch, device)
                steps += 1
                if epoch < self.warmup_epochs:
                    w_total += self._warmup_step(supernet, trainer, x, y, w_opt, weights)
                    continue
                with torch.no_grad():
                    sample, _, _ = self.draw(supernet, gen)
                supernet.set_sample(sample)
                w_total += self._weight_step(supernet, trainer, x, y, w_opt, weights)
            if epoch < self.warmup_epochs:
                self._end_epoch(epoch, {"weight_loss": w_total / max(steps, 1), "reward": None, "baseline": baseline})
                continue
            rewards = []
            for _ in range(self.ctrl_steps):
                sample, logp, entropy = self.draw(supernet, gen)
                reward = self._reward(supernet, trainer, next(arch_iter), sample, device)
                baseline = reward if baseline is None else self.baseline_decay * baseline + (1 - self.baseline_decay) * reward
                c_opt.zero_grad(set_to_none=True)
                loss = -(reward - baseline) * logp - self.entropy_weight * entropy
                loss.backward()
                c_opt.step()
                rewards.append(reward)
            self._end_epoch(epoch, {"weight_loss": w_total / max(steps, 1),
                                    "reward": sum(rewards) / len(rewards), "baseline": baseline})

    def probabilities(self) -> dict[str, list[float]]:
        """The controller's probability of each candidate along its most likely path (each label given the
        argmax of the labels before it); the supernet's logits before the controller exists."""
        if self.controller is None or self.supernet is None:
            return super().probabilities()
        return dict(zip(self.supernet.arch.labels, self.controller.greedy_probabilities()))

    # -- export -------------------------------------------------------------------------------
    def _budget(self) -> Budget | None:
        """The penalty's baseline, else the filter's max (a plain function filter: feasible = accepted)."""
        budget = super()._budget()
        if budget is not None:
            if self.filter is None:
                return budget
            base = budget  # the penalty's bound, and the filter's: illegal samples cost infinitely much
            return Budget(lambda s: float(base.cost(s)) if self._legal(s) else math.inf, base.limit, base.unit,
                          hard=True)
        if isinstance(self.filter, RangeProfilerFilter):
            if self.filter.min is None:
                return Budget(self.filter.cost, self.filter.max, getattr(self.filter.profiler, "unit", ""), hard=True)
        if self.filter is not None:
            return Budget(lambda s: 0.0 if self._legal(s) else 1.0, 0.0, hard=True)
        return None

    def _controller_samples(self, supernet: Supernet, n: int, generator: torch.Generator,
                            budget: Budget) -> list[tuple[float, dict[str, Any]]]:
        assert self.controller is not None
        out: dict[str, tuple[float, dict[str, Any]]] = {}
        with torch.no_grad():
            choices, logp, _ = self.controller(greedy=True)
            draws = [(float(logp), choices)]
            for _ in range(n):
                c, lp, _ = self.controller(generator)
                draws.append((float(lp), c))
        for lp, c in draws:
            s = self._decode(supernet, c)
            if budget.feasible(s):
                out.setdefault(repr(sorted((k, repr(v)) for k, v in s.items())), (lp, s))
        return sorted(out.values(), key=lambda t: -t[0])

    def _likely(self, supernet: Supernet, k: int, budget: Budget) -> list[dict[str, Any]]:
        """The greedy decode and the most probable of ``export_candidates`` controller draws, within the budget."""
        gen = torch.Generator().manual_seed(self.seed + 31)
        return [s for _, s in self._controller_samples(supernet, self.export_candidates, gen, budget)[:k]]

    def _sampled(self, supernet: Supernet, n: int, budget: Budget, generator: torch.Generator) -> list[dict[str, Any]]:
        return [s for _, s in self._controller_samples(supernet, n, generator, budget)[:n]]

    def _argmax(self, supernet: Supernet) -> Mapping[str, Any]:
        assert self.controller is not None
        with torch.no_grad():
            choices, _, _ = self.controller(greedy=True)
            best = self._decode(supernet, choices)
            if self._legal(best):
                return best
            gen = torch.Generator().manual_seed(self.seed + 31)
            legal = []
            for _ in range(self.export_candidates):
                c, logp, _ = self.controller(gen)
                s = self._decode(supernet, c)
                if self._legal(s):
                    legal.append((float(logp), s))
        if not legal:
            raise NoFeasibleSampleError(
                f"ENAS export: the controller's most likely architecture and {self.export_candidates} samples all fail "
                "the filter; widen the filter's range."
            )
        return max(legal, key=lambda t: t[0])[1]

    def __repr__(self) -> str:
        return (f"ENAS(epochs={self.epochs}, ctrl_steps={self.ctrl_steps}, penalty={self.penalty!r}, "
                f"filter={self.filter!r}, seed={self.seed})")

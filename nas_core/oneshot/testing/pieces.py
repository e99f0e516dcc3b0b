"""Small, real pieces for testing and benchmarking one-shot strategies.

* :class:`MacsProfiler`: multiply-accumulates from the shape engine (a
  :class:`~nas_core.shapes.CostModelProfiler`, so it has an exact ``expectation``);
* :class:`DigitsOneShotSpace`: a model space for scikit-learn's 8x8 digits with a width
  choice, two LayerChoices (including a weak blur), a kernel choice and an
  InputChoice skip;
* :class:`ZeroLossTrainer`: random data and a task loss that is exactly zero, to check that a
  penalty alone moves the architecture;
* :class:`RandomDataTrainer`: random inputs with learnable labels, cross-entropy and a real
  ``fit``, so a one-shot search runs end to end without a dataset;
* :class:`LookupLatency`: a latency table for :class:`DigitsOneShotSpace` with only ``profile``
  (no expectation), what a table measured on a device looks like;
* :func:`random_probs`: a supernet with random architecture logits and their probabilities.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from nas_core.nn import layers as nnn  # the mutable layers (typed to take ValueChoice arguments)
from nas_core.interfaces.profiler import Profiler
from nas_core.interfaces.trainer import Trainer
from nas_core.oneshot.supernet import Supernet
from nas_core.shapes import CostModel, CostModelProfiler, check_terms, op_cost_terms, trace
from nas_core.space import InputChoice, LayerChoice, ModelSpace, ValueChoice, search_space

__all__ = ["MacsProfiler", "DigitsOneShotSpace", "ZeroLossTrainer", "RandomDataTrainer", "conv_block", "LookupLatency",
           "DIGITS_OP1_MS", "random_probs"]


class MacsProfiler(CostModelProfiler):
    """Multiply-accumulates of the frozen model for every sample (exact, with expectation)."""

    unit = "MACs"
    metric = "flops"

    def __init__(self, model_space: nn.Module, dummy_input: Any) -> None:
        self.trace = trace(model_space, dummy_input)
        self.cost_model = CostModel(search_space(model_space), op_cost_terms(self.trace, ["macs"]) + check_terms(self.trace),
                                    unit=self.unit)


def conv_block(c_in: Any, c_out: Any, k: Any) -> nn.Module:
    """Conv (padding k // 2), BatchNorm, ReLU."""
    return nn.Sequential(nnn.Conv2d(c_in, c_out, k, padding=k // 2), nnn.BatchNorm2d(c_out), nn.ReLU())


class DigitsOneShotSpace(ModelSpace):
    """Input ``(N, 1, 8, 8)``, 10 logits.

    Labels: ``width`` (4/8/16 channels), ``op1`` (conv3x3, convk, conv1x1, or a 5x5
    average-pool blur followed by BatchNorm, which learns almost nothing), ``kernel`` (3/5,
    the kernel of op1's ``convk``: one weight, centre-sliced), ``op2`` (conv3x3, conv5x5,
    conv1x1, blur), ``skip`` (``[0]``: op2's output; ``[1]``: op2's output plus its input).
    """

    def __init__(self) -> None:
        super().__init__()
        w = ValueChoice([4, 8, 16], label="width")
        k = ValueChoice([3, 5], label="kernel")
        self.stem = conv_block(1, w, 3)
        self.op1 = LayerChoice({
            "conv3x3": conv_block(w, w, 3),
            "convk": conv_block(w, w, k),
            "conv1x1": conv_block(w, w, 1),
            "blur": nn.Sequential(nn.AvgPool2d(5, stride=1, padding=2), nnn.BatchNorm2d(w)),
        }, label="op1")
        self.pool = nn.MaxPool2d(2)
        self.op2 = LayerChoice({
            "conv3x3": conv_block(w, w, 3),
            "conv5x5": conv_block(w, w, 5),
            "conv1x1": conv_block(w, w, 1),
            "blur": nn.Sequential(nn.AvgPool2d(5, stride=1, padding=2), nnn.BatchNorm2d(w)),
        }, label="op2")
        self.skip = InputChoice(n_candidates=2, n_chosen=1, reduction="sum", label="skip")
        self.head = nn.Sequential(nn.Flatten(), nnn.Linear(w * 16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.op1(self.stem(x)))
        y = self.op2(x)
        return self.head(self.skip([y, y + x]))


class ZeroLossTrainer(Trainer):
    """Random ``(N, 1, 8, 8)`` inputs; ``loss`` is the output times zero (no task signal at all)."""

    def __init__(self, n: int = 64, batch_size: int = 16, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.data = TensorDataset(torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g))
        self.batch_size = batch_size

    def fit(self, model: nn.Module) -> dict[str, float]:
        return {"accuracy": 0.0}

    def train_loader(self) -> DataLoader:
        return DataLoader(self.data, batch_size=self.batch_size, shuffle=False)

    def val_loader(self) -> DataLoader:
        return DataLoader(self.data, batch_size=self.batch_size, shuffle=False)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return output.sum() * 0.0

    def make_optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=0.01)


class RandomDataTrainer(Trainer):
    """Random ``(N, 1, 8, 8)`` inputs labelled by a fixed random linear map (10 learnable classes).

    Cross-entropy loss, SGD; :meth:`fit` trains a frozen model for ``epochs`` from a fixed seed
    and returns its validation accuracy. A quarter of the examples is the validation set.
    """

    def __init__(self, n: int = 128, batch_size: int = 32, epochs: int = 1, lr: float = 0.05, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(n, 1, 8, 8, generator=g)
        y = (x.flatten(1) @ torch.randn(64, 10, generator=g)).argmax(1)
        cut = n - n // 4
        self.train_data, self.val_data = TensorDataset(x[:cut], y[:cut]), TensorDataset(x[cut:], y[cut:])
        self.batch_size, self.epochs, self.lr, self.seed = batch_size, epochs, lr, seed

    def fit(self, model: nn.Module) -> dict[str, float]:
        torch.manual_seed(self.seed)
        optimizer = self.make_optimizer(model.parameters())
        for _ in range(self.epochs):
            model.train()
            for x, y in self.train_loader():
                optimizer.zero_grad()
                self.loss(model(x), y).backward()
                optimizer.step()
        return self.evaluate(model)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        model.eval()
        with torch.no_grad():
            right = sum(int((model(x).argmax(1) == y).sum()) for x, y in self.val_loader())
        return {"accuracy": right / len(self.val_data)}

    def train_loader(self) -> DataLoader:
        return DataLoader(self.train_data, batch_size=self.batch_size, shuffle=False)

    def val_loader(self) -> DataLoader:
        return DataLoader(self.val_data, batch_size=self.batch_size, shuffle=False)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, target)

    def make_optimizer(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=self.lr, momentum=0.9)


DIGITS_OP1_MS = {"conv3x3": 3.0, "convk": 5.0, "conv1x1": 1.0, "blur": 2.0}
""":class:`LookupLatency`'s milliseconds for each candidate of :class:`DigitsOneShotSpace`'s ``op1``."""


class LookupLatency(Profiler):
    """A latency table for :class:`DigitsOneShotSpace`: :data:`DIGITS_OP1_MS` of ``op1``'s candidate, plus 0.5 ms
    when ``op2`` is its 5x5 convolution. Only :meth:`profile` (no expectation); ``calls`` counts the lookups."""

    unit = "ms"

    def __init__(self, space: nn.Module) -> None:
        self.space = space
        self.calls = 0

    def profile(self, sample: Mapping[str, object]) -> float:
        self.calls += 1
        return DIGITS_OP1_MS[str(sample["op1"])] + 0.5 * (sample["op2"] == "conv5x5")


def random_probs(space: nn.Module, seed: int = 0) -> tuple[Supernet, dict[str, torch.Tensor]]:
    """A :class:`~nas_core.oneshot.Supernet` of ``space`` with standard-normal architecture logits drawn from ``seed``,
    and its probabilities (one tensor per label, differentiable in the logits)."""
    supernet = Supernet(space)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(seed)
        for logits in supernet.arch_parameters():
            logits.copy_(torch.randn(len(logits), generator=generator))
    return supernet, supernet.arch.probs()

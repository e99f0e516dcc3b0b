"""The small CNN space on scikit-learn's digits (8x8 images) evaluated exhaustively by
``make_digits_table.py``; the strategy tests and benchmark load its table.

144 samples over six labels: a ValueChoice width and kernel for the first conv, a
LayerChoice for the second block, a second width, an activation shared by both blocks
(one label on two LayerChoices) and an InputChoice picking average or max pooling.
"""
from __future__ import annotations

import torch
from torch import nn as tnn

import nas_core.nn as nn
from nas_core import InputChoice, LayerChoice, ModelSpace, ValueChoice


def _acts() -> dict[str, tnn.Module]:
    return {"relu": tnn.ReLU(), "tanh": tnn.Tanh()}


class DigitsCNN(ModelSpace):
    """conv(w1, k1) -> act -> op2(w1 -> w2) -> act -> pool (avg | max) -> linear(10)."""

    def __init__(self) -> None:
        super().__init__()
        w1 = ValueChoice([8, 16, 32], label="width1")
        k1 = ValueChoice([3, 5], label="kernel1")
        w2 = ValueChoice([16, 32], label="width2")
        self.conv1 = nn.Conv2d(1, w1, k1, padding=k1 // 2)
        self.act1 = LayerChoice(_acts(), label="act")
        self.op2 = LayerChoice(
            {
                "conv1x1": nn.Conv2d(w1, w2, 1),
                "conv3x3": nn.Conv2d(w1, w2, 3, padding=1),
                "conv5x5": nn.Conv2d(w1, w2, 5, padding=2),
            },
            label="op2",
        )
        self.act2 = LayerChoice(_acts(), label="act")
        self.pool = InputChoice(n_candidates=2, n_chosen=1, choose_from=["avg", "max"], label="pool")
        self.fc = nn.Linear(w2 * 16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.conv1(x))
        x = self.act2(self.op2(x))
        x = self.pool([tnn.functional.avg_pool2d(x, 2), tnn.functional.max_pool2d(x, 2)])
        return self.fc(torch.flatten(x, 1))

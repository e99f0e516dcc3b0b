"""A small MLP model space on scikit-learn's 8x8 digits, cheap enough to train 48 x 30 epochs
on a shared CPU (the early-stopping benchmark's default space).

Decisions: ``hidden`` width (16/32/64/128), ``act`` of the first layer (relu, tanh or
sigmoid: sigmoid nets learn slowly, so learning curves cross), ``depth`` (0-2 more
hidden layers) and ``dropout`` (none or p30: 0.3): 4 * 3 * 3 * 2 = 72 architectures.
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core import LayerChoice, ModelSpace, Repeat, ValueChoice
from nas_core import nn as nnn


class DigitsMLP(ModelSpace):
    """Input ``(N, 1, 8, 8)``, output 10 logits."""

    def __init__(self) -> None:
        super().__init__()
        hidden = ValueChoice([16, 32, 64, 128], label="hidden")
        self.first = nn.Sequential(nn.Flatten(), nnn.Linear(64, hidden))
        self.act = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}, label="act")
        self.more = Repeat(lambda i: nn.Sequential(nnn.Linear(hidden, hidden), nn.ReLU()), (0, 2), label="depth")
        self.drop = LayerChoice({"none": nn.Identity(), "p30": nn.Dropout(0.3)}, label="dropout")
        self.head = nnn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.more(self.act(self.first(x)))))

"""A small CNN model space for scikit-learn's 8x8 digits (the demo of `bash scripts/run.sh`).

Decisions (labels): ``stem.channels`` (8/16/32), ``block.op`` (3x3, 5x5 or 1x1 convolution),
``block.channels`` (16/32/48), ``extra.depth`` (0-2 more 3x3 convolutions), ``head.hidden``
(32/64/128 units): 3 * 3 * 3 * 3 * 3 = 243 architectures from about 10 thousand to over a
million multiply-accumulates.
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core import LayerChoice, ModelSpace, Repeat, ValueChoice
from nas_core import nn as nnn


class DigitsSpace(ModelSpace):
    """Input ``(N, 1, 8, 8)``, output 10 logits."""

    def __init__(self) -> None:
        super().__init__()
        c1 = ValueChoice([8, 16, 32], label="stem.channels")
        c2 = ValueChoice([16, 32, 48], label="block.channels")
        hidden = ValueChoice([32, 64, 128], label="head.hidden")
        self.stem = nn.Sequential(nnn.Conv2d(1, c1, 3, padding=1), nn.ReLU())
        self.block = LayerChoice({
            "conv3x3": nnn.Conv2d(c1, c2, 3, padding=1),
            "conv5x5": nnn.Conv2d(c1, c2, 5, padding=2),
            "conv1x1": nnn.Conv2d(c1, c2, 1),
        }, label="block.op")
        self.pool = nn.MaxPool2d(2)
        self.extra = Repeat(lambda i: nn.Sequential(nnn.Conv2d(c2, c2, 3, padding=1), nn.ReLU()), (0, 2),
                            label="extra.depth")
        self.head = nn.Sequential(nn.Flatten(), nnn.Linear(c2 * 16, hidden), nn.ReLU(), nnn.Linear(hidden, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.pool(torch.relu(self.block(x)))
        return self.head(self.extra(x))

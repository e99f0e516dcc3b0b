"""Seed 004's MNIST spaces (1x28x28 inputs), written as in the seed with only the imports changed.

:class:`Net` (a conv3x3 / conv5x5 LayerChoice) and :class:`SkipNet` (plus a skip connection through
``InputChoice(n_candidates=1)``); the core's seed tests and the shape engine's exactness tests use them.
The scaled-down copies the migration tests train are in :mod:`nas_core.testing.seed_models`.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from nas_core import space as mutables


class Net(nn.Module):
    """Seed 004's first example (conv3x3 / conv5x5 LayerChoice); ``fixed`` repairs the conv5x5 stride."""

    def __init__(self, fixed: bool = False) -> None:
        super(Net, self).__init__()
        self.conv1 = mutables.LayerChoice([
            nn.Conv2d(1, 32, 3, 1),
            nn.Conv2d(1, 32, 5, 1, 1) if fixed else nn.Conv2d(1, 32, 5, 3),
        ])  # try 3x3 kernel and 5x5 kernel
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


class SkipNet(Net):
    """Seed 004's second example: a skip connection through InputChoice(n_candidates=1)."""

    def __init__(self, fixed: bool = False) -> None:
        super().__init__(fixed)
        self.conv3 = nn.Conv2d(64, 64, 1, 1)
        # declaring that there is exactly one candidate to choose from
        # search strategy will choose one or None
        self.skipcon = mutables.InputChoice(n_candidates=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x0 = self.skipcon([x])  # choose one or none from [x]
        x = self.conv3(x)
        if x0 is not None:  # skipconnection is open
            x += x0
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)

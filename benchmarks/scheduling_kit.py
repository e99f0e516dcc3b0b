"""The space, trainer and strategy of benchmarks/scheduling.py (a module, so worker processes import it)."""
from __future__ import annotations

import random
import time

from torch import nn

import nas_core
from nas_core import ModelSpace, ValueChoice
from nas_core import nn as nnn

#: trial time of each ``size`` choice: 0.2 s to 2.0 s, as real trials vary with the model
SECONDS = {k: round(0.2 * k, 1) for k in range(1, 11)}


class SizedSpace(ModelSpace):
    """An MLP whose hidden width is one of 10 sizes (its trial takes 0.2 s x size)."""

    def __init__(self) -> None:
        super().__init__()
        width = ValueChoice(list(SECONDS), label="size")
        self.fc = nnn.Linear(4, width)
        self.out = nnn.Linear(width, 2)

    def forward(self, x):
        return self.out(self.fc(x))


class SleepTrainer(nas_core.Trainer):
    """Sleeps the size's seconds (no CPU used: the figures hold on a loaded machine)."""

    objective = "accuracy"

    def fit(self, model):
        size = next(m.out_features for m in model.modules() if isinstance(m, nn.Linear))
        time.sleep(SECONDS[size])
        return {"accuracy": size / 10}


class SeededRandom(nas_core.Strategy):
    """Random sizes from a seeded generator (repeats allowed): the same trials for every executor."""

    def setup(self, space, seed=None):
        super().setup(space, seed)
        self.rng = random.Random(seed)

    def ask(self):
        return self.space.random(self.rng)

    def tell(self, sample, result):
        pass

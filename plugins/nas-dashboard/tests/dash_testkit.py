"""A small real space, a cheap trainer and a parameter-count profiler for the dashboard's end-to-end tests."""
from __future__ import annotations

import math
import time

import torch
from torch import nn

import nas_core
from nas_core.experiment import Experiment
from nas_core import LayerChoice, ModelSpace, ValueChoice
from nas_core import nn as nnn


class ToySpace(ModelSpace):
    """An MLP on 8 features: width x activation x head = 4 * 2 * 2 = 16 samples."""

    def __init__(self) -> None:
        super().__init__()
        width = ValueChoice([4, 8, 16, 32], label="width")
        self.fc1 = nnn.Linear(8, width)
        self.act = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh()}, label="act")
        self.head = LayerChoice({"one": nnn.Linear(width, 3), "two": nn.Sequential(
            nnn.Linear(width, width), nn.ReLU(), nnn.Linear(width, 3))}, label="head")

    def forward(self, x):
        return self.head(self.act(self.fc1(x)))


class CheapTrainer(nas_core.Trainer):
    """No training: a deterministic accuracy from the parameter count; ``sleep`` seconds per trial."""

    objective = "accuracy"
    metric_names = ("accuracy",)

    def __init__(self, sleep: float = 0.0) -> None:
        self.sleep = sleep

    def fit(self, model):
        if self.sleep:
            time.sleep(self.sleep)
        n = sum(p.numel() for p in model.parameters())
        return {"accuracy": 0.5 + 0.45 * math.tanh(n / 400.0)}


class ParamsCost(nas_core.Profiler):
    unit = "parameters"

    def __init__(self, model_space, dummy_input=None):
        self.space = nas_core.search_space(model_space)

    def profile(self, sample):
        return float(sum(p.numel() for p in self.space.freeze(sample).parameters()))


def params_profiler(space):
    return ParamsCost(space)


def run_search(workdir: str, max_trials: int, sleep: float) -> None:
    """The search the live browser test runs, then resumes in the background (the same folder)."""
    torch.manual_seed(0)
    space = ToySpace()
    Experiment(space, CheapTrainer(sleep=sleep), "random", profilers={"params": ParamsCost(space)},
                        objectives={"accuracy": "max", "params": "min"}, max_trials=max_trials, workdir=workdir,
                        seed=0, progress=False).run()


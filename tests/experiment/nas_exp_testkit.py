"""Small spaces, trainers, profilers and a strategy for the experiment tests (importable by workers)."""
from __future__ import annotations

import json
import math
import os
import random
import time
from pathlib import Path

import torch
from torch import nn

import nas_core
from nas_core import LayerChoice, ModelSpace, ValueChoice
from nas_core import nn as nnn


class ToySpace(ModelSpace):
    """A 2-layer MLP on 8 features: width x activation x depth-of-head = 3 * 2 * 2 = 12 samples."""

    def __init__(self) -> None:
        super().__init__()
        width = ValueChoice([4, 8, 16], label="width")
        self.fc1 = nnn.Linear(8, width)
        self.act = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh()}, label="act")
        self.head = LayerChoice({"one": nnn.Linear(width, 3), "two": nn.Sequential(nnn.Linear(width, width),
                                 nn.ReLU(), nnn.Linear(width, 3))}, label="head")

    def forward(self, x):
        return self.head(self.act(self.fc1(x)))


def toy_space() -> ToySpace:
    torch.manual_seed(0)
    return ToySpace()


class CheapTrainer(nas_core.Trainer):
    """No training: a deterministic score from the architecture and its (seeded) initial weights."""

    objective = "accuracy"
    metric_names = ("accuracy", "loss")
    metric_units = {"accuracy": "fraction", "loss": "nats"}

    def __init__(self, sleep: float = 0.0) -> None:
        self.sleep = sleep

    def fit(self, model):
        if self.sleep:
            time.sleep(self.sleep)
        n = sum(p.numel() for p in model.parameters())
        x = torch.linspace(-1, 1, 16).reshape(2, 8)
        with torch.no_grad():
            out = model(x)
        acc = 0.5 + 0.4 * math.tanh(n / 200.0) + 0.05 * math.tanh(float(out.sum()))
        return {"accuracy": acc, "loss": 1.0 - acc}


class FaultyTrainer(CheapTrainer):
    """Raises on width 4, returns NaN on width 8 with tanh, kills nothing; otherwise CheapTrainer."""

    def fit(self, model):
        widths = [m.out_features for m in model.modules() if isinstance(m, nn.Linear)]
        if widths[0] == 4:
            raise ValueError("width 4 is not supported by this trainer")
        if widths[0] == 8 and any(isinstance(m, nn.Tanh) for m in model.modules()):
            return {"accuracy": float("nan"), "loss": float("nan")}
        return super().fit(model)


class OOMTrainer(CheapTrainer):
    def fit(self, model):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


class PidFileTrainer(CheapTrainer):
    """On width 16 with a two-layer head: write this worker's pid to ``pid_dir`` and sleep (to be killed)."""

    def __init__(self, pid_dir: str, sleep: float = 30.0) -> None:
        super().__init__()
        self.pid_dir, self.hold = pid_dir, sleep

    def fit(self, model):
        widths = [m.out_features for m in model.modules() if isinstance(m, nn.Linear)]
        marker = Path(self.pid_dir) / "killed-once"
        if widths[0] == 16 and len(widths) == 3 and not marker.exists():
            (Path(self.pid_dir) / "victim.pid").write_text(str(os.getpid()))
            time.sleep(self.hold)
        return super().fit(model)


class ParamsCost(nas_core.Profiler):
    """Parameter count of the frozen sample."""

    unit = "params"
    metric = "params"

    def __init__(self, model_space, dummy_input=None):
        self.space = nas_core.search_space(model_space)

    def profile(self, sample):
        return float(sum(p.numel() for p in self.space.freeze(sample).parameters()))


class ToyRandom(nas_core.Strategy):
    """Seeded random proposals with a JSON state; proposes each sample once; exhausts."""

    def setup(self, space, seed=None):
        super().setup(space, seed)
        self.rng = random.Random(seed)
        self.seen: list[str] = []
        self.told = 0

    def ask(self):
        for _ in range(200):
            s = self.space.random(self.rng)
            key = json.dumps(s, sort_keys=True)
            if key not in self.seen:
                self.seen.append(key)
                return s
        return None

    def tell(self, sample, result):
        self.told += 1

    def state_dict(self):
        st = self.rng.getstate()
        return {"rng": [st[0], list(st[1]), st[2]], "seen": list(self.seen), "told": self.told}

    def load_state_dict(self, state):
        self.rng.setstate((state["rng"][0], tuple(state["rng"][1]), state["rng"][2]))
        self.seen = list(state["seen"])
        self.told = state["told"]


class HillClimb(ToyRandom):
    """Order-sensitive: proposes mutations of the best sample told so far (tests batch determinism)."""

    def setup(self, space, seed=None):
        super().setup(space, seed)
        self.best = None

    def ask(self):
        if self.best is None:
            return super().ask()
        for _ in range(50):
            s = dict(self.best[1])
            label = self.rng.choice(self.space.labels)
            s[label] = self.rng.choice(self.space.choices[label].domain)
            key = json.dumps(s, sort_keys=True)
            if key not in self.seen:
                self.seen.append(key)
                return s
        return super().ask()

    def tell(self, sample, result):
        super().tell(sample, result)
        if result.ok and (self.best is None or result.score > self.best[0]):
            self.best = (result.score, dict(sample))

    def state_dict(self):
        return {**super().state_dict(), "best": self.best}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.best = tuple(state["best"]) if state["best"] else None


class HugeAllocTrainer(CheapTrainer):
    """Asks the CPU allocator for 2^50 bytes (fails at once: a CPU out-of-memory error)."""

    def fit(self, model):
        torch.empty(1 << 50, dtype=torch.uint8)
        return super().fit(model)


class NotATrainer:
    """Has no fit: what a broken trainer factory returns."""


def make_not_a_trainer(**options):
    return NotATrainer()


def make_cheap_trainer(sleep: float = 0.0):
    return CheapTrainer(sleep)

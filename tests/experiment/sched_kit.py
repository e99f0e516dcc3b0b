"""Trainers and a strategy for the scheduling tests (importable by worker processes)."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import nas_core
from torch import nn

from nas_core.experiment.trial import trial_device
from nas_exp_testkit import CheapTrainer, ToyRandom


def first_width(model) -> int:
    return next(m.out_features for m in model.modules() if isinstance(m, nn.Linear))


class SleepTrainer(CheapTrainer):
    """Sleeps ``seconds[width]`` (default 0.05 s) and reports the CheapTrainer metrics."""

    def __init__(self, seconds=None):
        super().__init__()
        self.seconds = dict(seconds or {})

    def fit(self, model):
        time.sleep(self.seconds.get(first_width(model), 0.05))
        return super().fit(model)


class ListStrategy(nas_core.Strategy):
    """Proposes the given samples in order (then nothing); remembers what it was told."""

    def __init__(self, samples):
        self.samples = [dict(s) for s in samples]

    def setup(self, space, seed=None):
        super().setup(space, seed)
        self.i, self.told, self.restored = 0, [], None

    def ask(self):
        if self.i >= len(self.samples):
            return None
        self.i += 1
        return dict(self.samples[self.i - 1])

    def tell(self, sample, result):
        self.told.append((dict(sample), result.status))

    def state_dict(self):
        return {"i": self.i}

    def load_state_dict(self, state):
        self.i = state["i"]

    def restore_history(self, history):
        self.restored = [(dict(s), r.status) for s, r in history]
        self.told = list(self.restored)


class HangTrainer(CheapTrainer):
    """Hangs (sleeps an hour) on width 16; quick otherwise."""

    def fit(self, model):
        if first_width(model) == 16:
            time.sleep(3600)
        return super().fit(model)


class ExitTrainer(CheapTrainer):
    """``SystemExit(5)`` on width 4, ``KeyboardInterrupt`` on width 8 with tanh; CheapTrainer otherwise."""

    def fit(self, model):
        if first_width(model) == 4:
            raise SystemExit(5)
        if first_width(model) == 8 and any(isinstance(m, nn.Tanh) for m in model.modules()):
            raise KeyboardInterrupt
        return super().fit(model)


class SuicideTrainer(CheapTrainer):
    """SIGKILLs its own worker on width 16 with a two-layer head; the others sleep a little and succeed."""

    def fit(self, model):
        widths = [m.out_features for m in model.modules() if isinstance(m, nn.Linear)]
        if widths[0] == 16 and len(widths) == 3:
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.3)
        return super().fit(model)


class DeviceTrainer(CheapTrainer):
    """Reports what its worker sees: the GPU index in CUDA_VISIBLE_DEVICES (-1: unset) and its pid."""

    def fit(self, model):
        metrics = super().fit(model)
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        time.sleep(0.1)
        return {**metrics, "visible": float(visible) if visible else -1.0, "pid": float(os.getpid()),
                "trial_device_cuda": float(str(trial_device()) == "cuda:0")}


class LoggingRandom(ToyRandom):
    """ToyRandom that appends every sample it proposes to a file (to check what was asked)."""

    def __init__(self, log: str):
        self.log = log

    def ask(self):
        s = super().ask()
        if s is not None:
            with open(self.log, "a") as f:
                f.write(repr(sorted(s.items())) + "\n")
        return s


def write_pids(path: str, pids) -> None:
    Path(path).write_text(" ".join(str(p) for p in pids))


class GrowingState(nas_core.Strategy):
    """Seeded random samples, repeats allowed (any number of trials); its state keeps every score told."""

    def setup(self, space, seed=None):
        super().setup(space, seed)
        import random

        self.rng = random.Random(seed)
        self.scores: list[float] = []

    def ask(self):
        return self.space.random(self.rng)

    def tell(self, sample, result):
        self.scores.append(result.score)

    def state_dict(self):
        st = self.rng.getstate()
        return {"rng": [st[0], list(st[1]), st[2]], "scores": list(self.scores)}

    def load_state_dict(self, state):
        self.rng.setstate((state["rng"][0], tuple(state["rng"][1]), state["rng"][2]))
        self.scores = list(state["scores"])


def exit_5():
    raise SystemExit(5)


def a_lock():
    import threading

    return threading.Lock()


def pid():
    return os.getpid()

"""A real one-shot (DARTS) experiment with a FLOPs penalty, small enough for a test: for the probability view."""
from __future__ import annotations

from pathlib import Path

import torch

import nas_core
from nas_core.experiment import Experiment
from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler, ZeroLossTrainer


def run_darts(workdir: Path, epochs: int = 5) -> Path:
    """DARTS on random 8x8 inputs with no task loss: only the MACs penalty moves the probabilities."""
    torch.manual_seed(0)
    space = DigitsOneShotSpace()
    macs = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    penalty = ExpectationProfilerPenalty(macs, baseline=1.0, scale=1.0)
    strategy = nas_core.create("strategy", "darts", epochs=epochs, arch_lr=0.2, penalty=penalty)
    Experiment(space, ZeroLossTrainer(n=16, batch_size=8), strategy, profilers={"flops": macs},
               objectives={"accuracy": "max", "flops": "min"}, workdir=workdir, progress=False).run()
    return workdir

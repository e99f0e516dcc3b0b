"""A space, a reporting trainer, pruners and a recording strategy for testing pruners.

Every width's made-up learning curve is above the narrower widths' at every epoch
(:func:`accuracy_at`), so which trials a pruner stops, and at which epoch, is known
exactly. The core's pruning tests and the pruner plugins' tests use them::

    assert steps_done_by_width("asha", tmp_path) == {3: 9, 1: 1, 6: 9, 2: 1, 5: 1, 4: 1}
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

import nas_core
from nas_core import ModelSpace, ValueChoice
from nas_core.hookspecs import Register
from nas_core.interfaces import TrialResult
from nas_core.nn import layers as nnn  # the mutable layers (typed to take ValueChoice arguments)
from nas_core.pruning.base import Pruner
from nas_core.pruning.curves import LearningCurve, TrialHistory
from nas_core.pruning.reporting import report

__all__ = ["WidthSpace", "accuracy_at", "CurveTrainer", "StopNarrow", "BetterThanAllFinished", "Fixed", "KitPlugin",
           "WIDTHS", "steps_done_by_width"]

#: the widths :func:`steps_done_by_width` proposes, in order
WIDTHS = [3, 1, 6, 2, 5, 4]


class WidthSpace(ModelSpace):
    """One decision, ``width`` in 1..6: a single linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nnn.Linear(4, ValueChoice([1, 2, 3, 4, 5, 6], label="width"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def accuracy_at(width: int, epoch: int) -> float:
    """The made-up learning curve of a width: it rises with the epoch toward width / 10."""
    return round(width / 10 * (1 - 0.5 ** epoch), 6)


class CurveTrainer(nas_core.Trainer):
    """Reports ``accuracy_at(width, epoch)`` (and a loss) after each of ``epochs`` epochs; no real training."""

    objective = "accuracy"
    metric_names = ("accuracy", "loss")

    def __init__(self, epochs: int = 6) -> None:
        self.epochs = epochs

    def fit(self, model: nn.Module) -> dict[str, float]:
        width = int(getattr(model, "fc").out_features)
        metrics: dict[str, float] = {}
        for epoch in range(1, self.epochs + 1):
            metrics = {"accuracy": accuracy_at(width, epoch), "loss": 1.0 - accuracy_at(width, epoch)}
            report(epoch, metrics)
        return metrics


class StopNarrow(Pruner):
    """Stops a trial at ``at_step`` when its score is below ``below`` (decides from its own curve)."""

    def __init__(self, below: float = 0.3, at_step: int = 2) -> None:
        self.below, self.at_step = below, at_step

    def should_prune(self, curve: LearningCurve, history: TrialHistory) -> bool:
        return curve.last_step == self.at_step and curve.last_score < self.below


class BetterThanAllFinished(Pruner):
    """Stops a trial at step 1 unless it beats every completed trial's step-1 score (uses the history)."""

    def should_prune(self, curve: LearningCurve, history: TrialHistory) -> bool:
        if curve.last_step != 1:
            return False
        scores = [c.score_at(1) for c in history.completed]
        return any(s is not None and s >= curve.last_score for s in scores)


class Fixed(nas_core.Strategy):
    """Proposes the given widths in order and records every result it is told."""

    def __init__(self, widths: list[int]) -> None:
        self.widths = list(widths)
        self.told: list[tuple[dict[str, Any], TrialResult]] = []

    def ask(self) -> dict[str, Any] | None:
        return {"width": self.widths.pop(0)} if self.widths else None

    def tell(self, sample: Mapping[str, object], result: TrialResult) -> None:
        self.told.append((dict(sample), result))

    def state_dict(self) -> dict[str, Any]:
        return {"widths": self.widths}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.widths = list(state["widths"])


class KitPlugin:
    """Registers the kit's pruner (``stop-narrow``), strategy (``fixed``) and trainer (``curve``)."""

    @nas_core.hookimpl
    def register_pruners(self, register: Register) -> None:
        register("stop-narrow", StopNarrow)

    @nas_core.hookimpl
    def register_strategies(self, register: Register) -> None:
        register("fixed", Fixed)

    @nas_core.hookimpl
    def register_trainers(self, register: Register) -> None:
        register("curve", CurveTrainer)


def steps_done_by_width(pruner: Pruner, workdir: str | os.PathLike, widths: list[int] | None = None,
                        epochs: int = 9) -> dict[int, int]:
    """Run ``Fixed(widths)`` (default :data:`WIDTHS`) on :class:`WidthSpace` with ``CurveTrainer(epochs)`` under
    ``pruner`` (a registry name or a :class:`Pruner`): each width's epochs done. Checks on the way that the strategy
    was told ``succeeded`` for the widths that ran every epoch and ``pruned`` for the others."""
    from nas_core.experiment import Experiment
    from nas_core.pruning.store import CurveStore

    strategy = Fixed(WIDTHS if widths is None else widths)
    n = len(strategy.widths)
    exp = Experiment(WidthSpace, CurveTrainer(epochs=epochs), strategy, max_trials=n, pruner=pruner,
                     workdir=Path(workdir) / "run", progress=False)
    exp.run()
    assert exp.store is not None
    with CurveStore(Path(workdir) / "run") as curves:
        done = curves.steps_done()
    steps = {t.sample["width"]: done[t.id] for t in exp.store.trials()}
    told = {s["width"]: r.status for s, r in strategy.told}
    assert told == {w: "succeeded" if k == epochs else "pruned" for w, k in steps.items()}, (told, steps)
    return steps

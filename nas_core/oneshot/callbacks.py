"""NNI's one-shot trainer callbacks: a learning-rate scheduler, architecture and model checkpoints.

``DartsTrainer(..., callbacks=[LRSchedulerCallback(scheduler), ArchitectureCheckpoint("ckpt")])``
as in NNI. A callback has any of ``build(trainer)``, ``on_epoch_begin(epoch)`` and
``on_epoch_end(epoch)`` (0-based epochs); :class:`Callback` is the base to subclass.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from nas_core.errors import ConfigError

if TYPE_CHECKING:
    from nas_core.oneshot.trainers import OneShotTrainer

__all__ = ["Callback", "LRSchedulerCallback", "ArchitectureCheckpoint", "ModelCheckpoint"]


class Callback:
    """Base of the one-shot trainer callbacks; ``self.trainer`` is set by :meth:`build`."""

    trainer: Any = None

    def build(self, trainer: OneShotTrainer) -> None:
        self.trainer = trainer

    def on_epoch_begin(self, epoch: int) -> None:
        """Before epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int) -> None:
        """After epoch ``epoch`` (0-based)."""


class LRSchedulerCallback(Callback):
    """Steps ``scheduler`` after every epoch (NNI's ``mode="epoch"``).

    The scheduler is built on your optimizer; the search trains the supernet with a copy of
    it (same class and settings, see :func:`nas_core.training.rebuild_optimizer`), so after
    each step the new learning rate is carried over to that copy.
    """

    def __init__(self, scheduler: torch.optim.lr_scheduler.LRScheduler, mode: str = "epoch") -> None:
        if mode != "epoch":
            raise ConfigError(f"LRSchedulerCallback(mode={mode!r}): only mode='epoch' exists (as in NNI).")
        optimizer = getattr(scheduler, "optimizer", None)
        if not callable(getattr(scheduler, "step", None)) or not isinstance(optimizer, torch.optim.Optimizer):
            raise ConfigError(
                f"LRSchedulerCallback needs a learning-rate scheduler built on your optimizer (e.g. "
                f"torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_epochs)); got {type(scheduler).__name__}.")
        self.scheduler, self.mode = scheduler, mode

    def on_epoch_end(self, epoch: int) -> None:
        with warnings.catch_warnings():  # your optimizer never steps itself here: its copy does
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before")
            self.scheduler.step()
        adapter = getattr(self.trainer, "adapter", None)
        training = getattr(adapter, "training_optimizer", None)
        if training is not None and training is not self.scheduler.optimizer:
            lr = self.scheduler.optimizer.param_groups[0]["lr"]
            for group in training.param_groups:
                group["lr"] = lr


class ArchitectureCheckpoint(Callback):
    """Writes the most likely architecture so far to ``checkpoint_dir/epoch_<n>.json`` after every epoch."""

    def __init__(self, checkpoint_dir: str | os.PathLike) -> None:
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch: int) -> None:
        from nas_core.space.architecture import export_architecture

        strategy = self.trainer.strategy
        export_architecture(strategy.supernet.space, strategy.current_architecture(),
                            file=self.checkpoint_dir / f"epoch_{epoch}.json")


class ModelCheckpoint(Callback):
    """Saves the supernet's weights (``state_dict``) to ``checkpoint_dir/epoch_<n>.pth`` after every epoch."""

    def __init__(self, checkpoint_dir: str | os.PathLike) -> None:
        self.checkpoint_dir = Path(checkpoint_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch: int) -> None:
        torch.save(self.trainer.strategy.supernet.state_dict(), self.checkpoint_dir / f"epoch_{epoch}.pth")

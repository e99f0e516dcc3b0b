"""OneShotTrainer: NNI's one-shot trainer shape (``train()``, ``export(file)``, ``validate()``).

``DartsTrainer``, ``EnasTrainer`` and ``ProxylessTrainer`` (in their strategy plugins) are
thin subclasses: each maps NNI's constructor arguments onto its nas-core strategy and one
:class:`~nas_core.oneshot.adapter.TrainerAdapter` holding the user's loss, metrics,
optimizer and data. The search itself is the strategy's ``fit``; nothing is implemented twice.
"""
from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Sequence

from torch import nn

from nas_core.errors import ConfigError
from nas_core.oneshot.adapter import TrainerAdapter
from nas_core.oneshot.base import BaseOneShot

__all__ = ["OneShotTrainer", "check_no_mutator", "warn_unsupported"]

log = logging.getLogger("nas_core.trainer")


def check_no_mutator(mutator: object, who: str) -> None:
    """NNI's ``mutator=`` has no counterpart: the strategy owns the architecture state."""
    if mutator is not None:
        raise ConfigError(
            f"{who}(mutator=...) is not supported: in nas-core the strategy owns the architecture parameters and "
            "builds the supernet itself. Drop mutator=; to change how the search samples, pass the strategy's own "
            "options (see docs/one-shot.md)."
        )


def warn_unsupported(who: str, **given: Any) -> None:
    """Warn, naming them, about NNI arguments set that have no counterpart here (``None`` means not set)."""
    used = {k: v for k, v in given.items() if v is not None}
    if used:
        warnings.warn(
            f"{who}: {', '.join(f'{k}={v!r}' for k, v in used.items())} has no counterpart in nas-core and is ignored "
            "(see docs/migrating-from-nni.md).",
            UserWarning,
            stacklevel=3,
        )


class OneShotTrainer:
    """A one-shot search over ``model`` (a model space) with ``strategy`` and the user's pieces.

    ``callbacks``: objects with any of NNI's callback methods ``build(trainer)``,
    ``on_epoch_begin(epoch)`` and ``on_epoch_end(epoch)`` (0-based epochs).
    """

    def __init__(self, model: nn.Module, strategy: BaseOneShot, adapter: TrainerAdapter,
                 callbacks: Sequence[Any] | None = None) -> None:
        if not isinstance(model, nn.Module):
            raise ConfigError(f"{type(self).__name__} needs the model (an nn.Module with LayerChoice/InputChoice/"
                              f"ValueChoice), got {type(model).__name__}.")
        self.model = model
        self.strategy = strategy
        self.adapter = adapter
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if callable(getattr(cb, "build", None)):
                cb.build(self)
        self.metrics: dict[str, float] | None = None

    @property
    def num_epochs(self) -> int:
        return self.strategy.epochs

    @property
    def history(self) -> list[dict[str, Any]]:
        """One dict per epoch: the strategy's losses (and expected cost with a hardware term)."""
        return self.strategy.history

    def _call(self, hook: str, epoch: int) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if callable(fn):
                fn(epoch)

    def train(self, validate: bool = True) -> None:
        """Search; with ``validate``, then score the exported architecture on the validation data."""
        before = self.strategy.on_epoch

        def on_epoch(epoch: int, total: int, info: dict[str, Any]) -> None:
            self.adapter.epoch = epoch
            shown = "  ".join(f"{k} {v:.4g}" for k, v in info.items() if k != "epoch" and isinstance(v, (int, float)))
            log.info("Epoch [%d/%d] done  %s", epoch, total, shown)
            self._call("on_epoch_end", epoch - 1)
            if epoch < total:
                self._call("on_epoch_begin", epoch)
            if before is not None:
                before(epoch, total, info)

        self.adapter.epoch = 0
        self._call("on_epoch_begin", 0)
        self.strategy.on_epoch = on_epoch
        try:
            self.strategy.fit(self.model, self.adapter)
        finally:
            self.strategy.on_epoch = before
        if validate:
            self.validate()

    def validate(self) -> dict[str, float]:
        """Loss and metrics of the exported architecture, on the supernet's shared weights."""
        supernet = self.strategy.supernet
        if supernet is None:
            raise ConfigError(f"{type(self).__name__}.validate() before train(): call trainer.train() first.")
        with supernet.sampled(self.strategy.export()):
            self.metrics = self.adapter.evaluate(supernet)
        log.info("Validation of the exported architecture: %s",
                 "  ".join(f"{k} {v:.4f}" for k, v in self.metrics.items()))
        return self.metrics

    def export(self, file: str | os.PathLike | None = None, fmt: str = "name") -> dict[str, Any]:
        """The chosen architecture; with ``file``, also written as JSON (seed 004's format)."""
        return self.strategy.export(file=file, fmt=fmt)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strategy!r}, {self.adapter!r})"

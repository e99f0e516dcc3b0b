"""BaseOneShot: what every one-shot strategy shares (seeding, data, export)."""
from __future__ import annotations

import json
import os
import random
from typing import Any, Callable, ClassVar, Mapping

import torch
from torch import nn

from nas_core.errors import ConfigError, NasError
from nas_core.interfaces.strategy import OneShotStrategy
from nas_core.space.architecture import FORMATS, export_architecture
from nas_core.oneshot.data import split_loaders
from nas_core.oneshot.supernet import Supernet

__all__ = ["BaseOneShot", "check_positive_int", "check_positive"]


def check_positive_int(who: str, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{who} {name} must be an integer >= {minimum}, got {value!r}.")
    return value


def check_positive(who: str, name: str, value: Any, allow_zero: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ValueError(f"{who} {name} must be a number {'>= 0' if allow_zero else '> 0'}, got {value!r}.")
    return float(value)


class BaseOneShot(OneShotStrategy):
    """Trains a :class:`Supernet` of the space with a trainer's loaders, loss and optimizer.

    Subclasses set :attr:`weighted` and implement :meth:`_search` (the training loop) and
    :meth:`_choose` (the exported sample). ``fit`` runs under a forked, seeded torch RNG:
    the same seed gives the same exported architecture. ``on_epoch(epoch, epochs, info)``
    (optional) is called after each epoch: the experiment runner uses it for progress.
    """

    weighted: ClassVar[bool] = True

    def __init__(self, *, epochs: int = 10, seed: int = 0, arch_data: str = "split", arch_fraction: float = 0.5,
                 gradient_clip: float | None = 5.0) -> None:
        who = type(self).__name__
        self.epochs = check_positive_int(who, "epochs", epochs)
        self.seed = check_positive_int(who, "seed", seed, minimum=0)
        if arch_data not in ("split", "val"):
            raise ValueError(f"{who} arch_data must be 'split' or 'val', got {arch_data!r}.")
        self.arch_data = arch_data
        self.arch_fraction = check_positive(who, "arch_fraction", arch_fraction)
        self.gradient_clip = None if gradient_clip is None else check_positive(who, "gradient_clip", gradient_clip)
        self.supernet: Supernet | None = None
        self.history: list[dict[str, Any]] = []
        self.on_epoch: Callable[[int, int, dict[str, Any]], None] | None = None
        self._sample: dict[str, Any] | None = None

    # -- OneShotStrategy ---------------------------------------------------------------------
    def fit(self, model_space: nn.Module, trainer: Any) -> None:
        """Train the supernet of ``model_space`` with ``trainer``'s pieces; then :meth:`export` the choice."""
        if not isinstance(model_space, nn.Module):
            raise ConfigError(f"{type(self).__name__}.fit needs a model space (an nn.Module), got {type(model_space).__name__}.")
        weight_data, arch_data = split_loaders(trainer, self.arch_data, self.arch_fraction, self.seed)
        device = trainer.device
        self.history = []
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(self.seed)
            state = random.getstate()
            random.seed(self.seed)
            try:
                gen = torch.Generator().manual_seed(self.seed)
                self.supernet = Supernet(model_space, weighted=self.weighted, generator=gen).to(device)
                parallel = getattr(trainer, "parallel", None)  # e.g. DataParallel over a device list
                if callable(parallel):
                    self.supernet.net = parallel(self.supernet.net)
                self._prepare(model_space, trainer)
                self._search(self.supernet, trainer, weight_data, arch_data, device)
                self._sample = self.supernet.space.validate(self._choose(self.supernet))
            finally:
                random.setstate(state)

    def export(self, file: str | os.PathLike | None = None, fmt: str = "name") -> dict[str, Any]:
        """The chosen sample (deterministic); with ``file``, also written as architecture JSON (seed 004)."""
        if self._sample is None or self.supernet is None:
            raise NasError(f"{type(self).__name__}.export() before fit(): call strategy.fit(model_space, trainer) first.")
        if fmt not in FORMATS:
            raise ValueError(f"unknown architecture format {fmt!r}; use one of {FORMATS}.")
        if file is not None:
            export_architecture(self.supernet.space, self._sample, fmt=fmt, file=file)
        return dict(self._sample)

    def probabilities(self) -> dict[str, list[float]]:
        """Each label's current probability of each candidate, in domain order (stored per epoch)."""
        if self.supernet is None:
            raise NasError(f"{type(self).__name__}.probabilities() before fit(): there is no supernet yet.")
        return self.supernet.arch.describe()

    def candidates(self) -> dict[str, list[str]]:
        """Each label's candidates as text, in the order of :meth:`probabilities`."""
        if self.supernet is None:
            raise NasError(f"{type(self).__name__}.candidates() before fit(): there is no supernet yet.")
        return {l: [v if isinstance(v, str) else json.dumps(v) for v in d] for l, d in self.supernet.arch.domains.items()}

    # -- for subclasses ----------------------------------------------------------------------
    def _prepare(self, model_space: nn.Module, trainer: Any) -> None:
        """Build what needs the space (profilers named by registry, controllers)."""

    def _search(self, supernet: Supernet, trainer: Any, weight_data: Any, arch_data: Any,
                device: torch.device) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _choose(self, supernet: Supernet) -> Mapping[str, Any]:
        return supernet.export()

    def _clip(self, params: list[nn.Parameter]) -> None:
        if self.gradient_clip is not None:
            nn.utils.clip_grad_norm_(params, self.gradient_clip)

    def _weight_step(self, supernet: nn.Module, trainer: Any, x: Any, y: Any, optimizer: Any,
                     weights: list[nn.Parameter]) -> float:
        """One optimizer step on the supernet weights (the architecture as currently set); returns the loss."""
        optimizer.zero_grad(set_to_none=True)
        loss = trainer.loss(supernet(x), y)
        loss.backward(inputs=weights)
        self._clip(weights)
        optimizer.step()
        return float(loss.detach())

    def _end_epoch(self, epoch: int, info: dict[str, Any]) -> None:
        info = {"epoch": epoch + 1, **info}
        self.history.append(info)
        if self.on_epoch is not None:
            self.on_epoch(epoch + 1, self.epochs, info)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(epochs={self.epochs}, seed={self.seed})"

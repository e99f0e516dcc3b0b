"""Separate weight and architecture data for one-shot search, from a trainer's pieces."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

import torch
from torch.utils.data import DataLoader, Subset

from nas_core.errors import ConfigError
from nas_core.interfaces.trainer import Trainer

__all__ = ["split_loaders", "forever", "as_pair", "to_device", "count_targets"]


def split_loaders(trainer: Trainer, arch_data: str = "split", fraction: float = 0.5,
                  seed: int = 0) -> tuple[Iterable[Any], Iterable[Any]]:
    """``(weight_loader, arch_loader)``.

    ``arch_data="split"`` (default, as in DARTS): the trainer's training set is split at
    random (by ``seed``) into a weight part and an architecture part of ``fraction``; the
    validation set stays untouched for the final evaluation. ``"val"``: weights train on
    the whole training set and the architecture on the trainer's validation loader.
    """
    if arch_data not in ("split", "val"):
        raise ConfigError(f"arch_data must be 'split' (split the training set) or 'val', got {arch_data!r}.")
    for name in ("train_loader", "val_loader", "loss", "make_optimizer"):
        if not callable(getattr(trainer, name, None)):
            raise ConfigError(
                f"one-shot strategies drive the trainer's pieces, but {type(trainer).__name__} has no {name}(); use "
                "a nas_core.Trainer exposing train_loader(), val_loader(), loss(), make_optimizer() (e.g. "
                "'classification')."
            )
    train = trainer.train_loader()
    if arch_data == "val":
        return train, trainer.val_loader()
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"arch_fraction must be between 0 and 1 (exclusive), got {fraction!r}.")
    dataset = getattr(train, "dataset", None)
    if dataset is None or not hasattr(dataset, "__len__"):
        raise ConfigError(
            f"arch_data='split' needs the trainer's train_loader() to be a DataLoader over a sized dataset; "
            f"{type(train).__name__} is not. Use arch_data='val'."
        )
    n = len(dataset)
    n_arch = int(round(n * fraction))
    if n_arch < 1 or n - n_arch < 1:
        raise ConfigError(f"the training set has {n} examples: too few to split into weight and architecture parts.")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    batch = getattr(train, "batch_size", None) or 64
    gw = torch.Generator().manual_seed(seed + 1)
    ga = torch.Generator().manual_seed(seed + 2)
    workers: int = getattr(train, "num_workers", 0) or 0  # the trainer's loader workers, kept alive between epochs
    weights = DataLoader(Subset(dataset, perm[n_arch:]), batch_size=batch, shuffle=True, generator=gw,
                         num_workers=workers, persistent_workers=workers > 0)
    arch = DataLoader(Subset(dataset, perm[:n_arch]), batch_size=batch, shuffle=True, generator=ga,
                      num_workers=workers, persistent_workers=workers > 0)
    return weights, arch


def forever(loader: Iterable[Any]) -> Iterator[Any]:
    """Cycle through ``loader`` endlessly (a new pass each time it ends)."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ConfigError("a one-shot data loader yielded no batch; give it at least one example.")


def as_pair(batch: Any) -> tuple[Any, Any]:
    """``(inputs, targets)`` of a batch, or a :class:`ConfigError` when it is not a pair."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise ConfigError(
            f"one-shot strategies expect batches of (inputs, targets), got {type(batch).__name__}; make the trainer's "
            "loaders yield pairs."
        )
    x, y = batch
    return x, y


def to_device(batch: Any, device: torch.device) -> tuple[Any, Any]:
    """``(inputs, targets)`` of a batch, moved to ``device``."""
    x, y = as_pair(batch)
    move = (lambda t: t.to(device)) if isinstance(x, torch.Tensor) else (lambda t: t)
    return move(x), y.to(device) if isinstance(y, torch.Tensor) else y


def count_targets(batches: Iterable[Any]) -> int:
    """How many targets ``batches`` hold (counted where they are, nothing moved)."""
    return sum(int(as_pair(batch)[1].numel()) for batch in batches)

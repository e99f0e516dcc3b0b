"""Datasets for the classification trainer: torch Datasets, tensors, or the built-in ``digits``."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset, TensorDataset

from nas_core.errors import ConfigError

__all__ = ["digits_dataset", "make_dataset", "BUILTIN_DATASETS"]

BUILTIN_DATASETS = ("digits",)


def digits_dataset(seed: int = 0, val_fraction: float = 0.25) -> tuple[TensorDataset, TensorDataset]:
    """scikit-learn's 8x8 digits (1797 images, 10 classes) as ``(train, val)`` datasets.

    Images are ``float32`` tensors of shape ``(1, 8, 8)`` scaled to [0, 1]; the split is
    stratified and fixed by ``seed``. Nothing is downloaded: the data ships with scikit-learn.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction!r}.")
    data = load_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(data.target, dtype=torch.long)
    idx_train, idx_val = train_test_split(
        list(range(len(y))), test_size=val_fraction, random_state=seed, stratify=data.target
    )
    return TensorDataset(x[idx_train], y[idx_train]), TensorDataset(x[idx_val], y[idx_val])


def make_dataset(data: Any, name: str) -> Dataset:
    """A torch Dataset from a Dataset or an ``(inputs, targets)`` pair of tensors."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = data
        if len(x) != len(y):
            raise ConfigError(
                f"{name}: inputs have {len(x)} rows but targets have {len(y)}; give one target per input."
            )
        return TensorDataset(x, y)
    raise ConfigError(
        f"{name} must be a torch Dataset or an (inputs, targets) pair of tensors, got {type(data).__name__}. "
        f"For the built-in data set pass dataset='digits'."
    )

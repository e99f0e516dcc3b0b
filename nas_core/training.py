"""The user's own training pieces, shared by every trainer that takes them.

NNI's trainers took a loss, a metrics function, an optimizer object, datasets and a device
(or a list of GPUs). These helpers turn them into what a nas-core trainer needs:
:func:`rebuild_optimizer` (the user's optimizer re-created on other weights),
:func:`metrics_dict` (a metrics result as a dict of floats), :func:`resolve_devices` and
:func:`as_dataset`. Used by :class:`~nas_core.oneshot.adapter.TrainerAdapter` and the
``classification`` trainer.
"""
from __future__ import annotations

import warnings
from typing import Any, Iterable, Mapping

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from nas_core.errors import ConfigError

__all__ = ["rebuild_optimizer", "metrics_dict", "resolve_devices", "as_dataset"]


def rebuild_optimizer(optimizer: torch.optim.Optimizer, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """A new optimizer of ``optimizer``'s class and hyper-parameters, over ``params``.

    The hyper-parameters are those of its first parameter group (``lr``, ``momentum``,
    ``weight_decay``...; changes a scheduler made to them are kept). Its state (momentum
    buffers) is not copied: the new weights are not the ones it was built on.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ConfigError(
            f"optimizer must be a torch.optim.Optimizer (e.g. torch.optim.SGD(model.parameters(), 0.05)), "
            f"got {type(optimizer).__name__}."
        )
    groups = optimizer.param_groups
    hyper = {k: groups[0][k] for k in optimizer.defaults if k in groups[0]}
    if any({k: g.get(k) for k in hyper} != hyper for g in groups[1:]):
        warnings.warn(
            f"{type(optimizer).__name__} has {len(groups)} parameter groups with different settings; the search "
            "re-creates it on the supernet's weights with the first group's settings for every weight.",
            stacklevel=3,
        )
    return type(optimizer)(params, **hyper)


def metrics_dict(value: Any, name: str = "metric") -> dict[str, float]:
    """``metrics(output, target)``'s result as a dict of floats (a number becomes ``{name: value}``)."""
    items: Iterable[tuple[Any, Any]] = value.items() if isinstance(value, Mapping) else [(name, value)]
    out: dict[str, float] = {}
    for k, v in items:
        if isinstance(v, torch.Tensor):
            if v.numel() != 1:
                raise ConfigError(f"the metrics function returned a tensor of shape {tuple(v.shape)} for {k!r}; "
                                  "return a number (e.g. tensor.item()) or a dict of numbers.")
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"the metrics function returned {v!r} for {k!r}; metrics must be numbers "
                              "(a float, or a dict of name to float).")
        out[str(k)] = float(v)
    return out


def resolve_devices(device: Any) -> tuple[torch.device, list[int]]:
    """``(main device, DataParallel device ids)`` from ``None``, a name, a torch.device, an index or a list of indices."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu"), []
    if isinstance(device, (list, tuple)):
        ids: list[int] = []
        for d in device:
            if isinstance(d, str):
                try:
                    d = torch.device(d)
                except RuntimeError:
                    raise ConfigError(f"device list {device!r}: give GPU indices such as [0, 1], got {d!r}.") from None
            if isinstance(d, torch.device):
                if d.type != "cuda":
                    raise ConfigError(f"device list {device!r}: DataParallel runs on GPUs; {d} is not one.")
                d = d.index or 0
            if isinstance(d, bool) or not isinstance(d, int) or d < 0:
                raise ConfigError(f"device list {device!r}: give GPU indices such as [0, 1], got {d!r}.")
            ids.append(d)
        if not ids:
            raise ConfigError("device=[] names no GPU; give GPU indices such as [0, 1], or 'cpu'.")
        return torch.device(f"cuda:{ids[0]}"), (ids if len(ids) > 1 else [])
    if isinstance(device, int) and not isinstance(device, bool):
        return torch.device(f"cuda:{device}"), []
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device {device!r} is not understood; use 'cpu', 'cuda', 'cuda:N', an index or a list of "
                          "GPU indices.") from None
    return dev, []


def as_dataset(data: object, name: str) -> Dataset:
    """A torch Dataset from a Dataset or an ``(inputs, targets)`` pair of tensors."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        if len(data[0]) != len(data[1]):
            raise ConfigError(f"{name}: inputs have {len(data[0])} rows but targets have {len(data[1])}.")
        return TensorDataset(*data)
    raise ConfigError(f"{name} must be a torch Dataset or an (inputs, targets) pair of tensors, got "
                      f"{type(data).__name__}.")

"""Flatten / view / reshape, including choice-dependent shapes."""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, numel, sym_apply


def _flatten(x: Any, start: int = 0, end: int = -1) -> tuple:
    nd = x.ndim
    start = start % nd if nd else 0
    end = end % nd if nd else 0
    if start > end:
        return tuple(x.shape)
    mid = numel(x.shape[start:end + 1])
    return (*x.shape[:start], mid, *x.shape[end + 1:])


def flatten_module_infer(m: nn.Flatten, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return _flatten(x, m.start_dim, m.end_dim)


def flatten_func_infer(f: Any, x: Any, start_dim: int = 0, end_dim: int = -1, **kwargs: Any) -> tuple:
    return _flatten(x, kwargs.get("start_dim", start_dim), kwargs.get("end_dim", end_dim))


def view_infer(f: Any, x: Any, *shape: Any, **kwargs: Any) -> tuple:
    if "size" in kwargs or "shape" in kwargs:
        shape = (kwargs.get("size", kwargs.get("shape")),)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    total = numel(x.shape)
    if any(not hasattr(s, "labels") and s == -1 for s in shape):
        known = numel([s for s in shape if hasattr(s, "labels") or s != -1])
        rest = sym_apply(lambda t, k: t // k, total, known)
        return tuple(rest if (not hasattr(s, "labels") and s == -1) else s for s in shape)
    return tuple(shape)


flatten_module = Formula(flatten_module_infer, name="flatten")
flatten_func = Formula(flatten_func_infer, name="flatten")
view = Formula(view_infer, name="view")

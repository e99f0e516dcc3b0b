"""Normalization layers."""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, hp, numel, require, same_shape
from nas_shapes_torch._util import eq


def bn_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    n = hp(m, "num_features")
    require(eq(x.shape[1] if x.ndim > 1 else x.shape[0], n), f"{type(m).__name__} expects {n} channels (input {list(x.shape)})")
    return tuple(x.shape)


def norm_costs(m: nn.Module, out: Any, *args: Any, **kwargs: Any) -> dict:
    return {"norm": numel(out)}


batch_norm = Formula(bn_infer, norm_costs, name="batch-norm")
BN_MODULES = [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d]

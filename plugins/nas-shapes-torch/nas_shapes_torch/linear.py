"""Linear layers."""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, evaluate_sym, hp, numel, require
from nas_shapes_torch._util import eq


def linear_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    fin, fout = hp(m, "in_features"), hp(m, "out_features")
    require(eq(x.shape[-1], fin), lambda s: f"{type(m).__name__} expects {evaluate_sym(fin, s)} input features but gets "
            f"input shape {list(evaluate_sym(tuple(x.shape), s))}")
    return (*x.shape[:-1], fout)


def linear_costs(m: nn.Module, out: tuple, x: Any, *args: Any, **kwargs: Any) -> dict:
    rows = numel(x.shape[:-1])
    costs = {"macs": rows * hp(m, "in_features") * hp(m, "out_features")}
    if getattr(m, "bias", None) is not None:
        costs["bias"] = numel(out)
    return costs


linear = Formula(linear_infer, linear_costs, name="linear")
TARGETS = [nn.Linear]

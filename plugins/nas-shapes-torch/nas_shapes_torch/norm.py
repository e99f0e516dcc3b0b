"""Normalization layers (module and functional forms). Cost kind ``norm``: one per output element."""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, evaluate_sym, hp, numel, require, same_shape
from nas_shapes_torch._util import eq


def bn_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    n = hp(m, "num_features")
    ch = x.shape[1] if x.ndim > 1 else x.shape[0]
    require(eq(ch, n), lambda s: f"{type(m).__name__} expects {evaluate_sym(n, s)} channels but gets input shape "
            f"{list(evaluate_sym(tuple(x.shape), s))}")
    return tuple(x.shape)


def instance_norm_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    if getattr(m, "affine", False) or getattr(m, "track_running_stats", False):
        return bn_infer(m, x)
    return tuple(x.shape)


def group_norm_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    c, g = hp(m, "num_channels"), hp(m, "num_groups")
    require(eq(x.shape[1], c), lambda s: f"{type(m).__name__} expects {evaluate_sym(c, s)} channels but gets input "
            f"shape {list(evaluate_sym(tuple(x.shape), s))}")
    del g
    return tuple(x.shape)


def layer_norm_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    ns = hp(m, "normalized_shape")
    ns = tuple(ns) if isinstance(ns, (tuple, list)) else (ns,)
    tail = tuple(x.shape[-len(ns):])
    for have, want in zip(tail, ns):
        require(eq(have, want), lambda s: f"{type(m).__name__} normalizes shape {list(evaluate_sym(ns, s))} but gets "
                f"input shape {list(evaluate_sym(tuple(x.shape), s))}")
    return tuple(x.shape)


def norm_costs(m: Any, out: Any, *args: Any, **kwargs: Any) -> dict:
    return {"norm": numel(out)}


batch_norm = Formula(bn_infer, norm_costs, name="batch-norm")
instance_norm = Formula(instance_norm_infer, norm_costs, name="instance-norm")
group_norm = Formula(group_norm_infer, norm_costs, name="group-norm")
layer_norm = Formula(layer_norm_infer, norm_costs, name="layer-norm")
local_response_norm = Formula(same_shape, norm_costs, name="local-response-norm")
BN_MODULES = [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm]
IN_MODULES = [nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d]
GN_MODULES = [nn.GroupNorm]
LN_MODULES = [nn.LayerNorm] + ([nn.RMSNorm] if hasattr(nn, "RMSNorm") else [])
LRN_MODULES = [nn.LocalResponseNorm]

norm_function = Formula(same_shape, norm_costs, name="norm")
NORM_FUNCTIONS = ["batch_norm", "instance_norm", "group_norm", "layer_norm", "rms_norm", "local_response_norm",
                  "normalize"]

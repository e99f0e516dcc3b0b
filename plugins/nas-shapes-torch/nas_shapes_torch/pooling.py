"""Pooling: max/avg pooling (with ceil_mode) and adaptive pooling."""
from __future__ import annotations

from typing import Any

from torch import nn
import torch.nn.functional as F

from nas_core.shapes import Formula, numel, sym_apply
from nas_shapes_torch._util import ntuple


def _pool_size(n: Any, k: Any, s: Any, p: Any, d: Any, ceil: bool) -> Any:
    def f(n_, k_, s_, p_, d_):
        eff = n_ + 2 * p_ - d_ * (k_ - 1) - 1
        out = (-(-eff // s_) if ceil else eff // s_) + 1
        if ceil and (out - 1) * s_ >= n_ + p_:
            out -= 1
        return out

    return sym_apply(f, n, k, s, p, d)


def _pool(nd: int, x: Any, k: Any, s: Any, p: Any, d: Any, ceil: bool) -> tuple:
    k = ntuple(k, nd)
    s = ntuple(s if s not in (None, ()) else k, nd)
    p = ntuple(p, nd)
    d = ntuple(d, nd)
    spatial = tuple(_pool_size(n, *a, ceil) for n, a in zip(x.shape[-nd:], zip(k, s, p, d)))
    return (*x.shape[:-nd], *spatial)


def pool_module_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> Any:
    nd = 2
    for cls, n in ((nn.MaxPool1d, 1), (nn.AvgPool1d, 1), (nn.MaxPool3d, 3), (nn.AvgPool3d, 3), (nn.MaxPool2d, 2), (nn.AvgPool2d, 2)):
        if isinstance(m, cls):
            nd = n
            break
    out = _pool(nd, x, m.kernel_size, m.stride, m.padding, getattr(m, "dilation", 1), m.ceil_mode)
    return (out, out) if getattr(m, "return_indices", False) else out


def _func_pool(nd: int):
    def infer(f: Any, x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, *args: Any, **kwargs: Any) -> tuple:
        if "max" in getattr(f, "__name__", ""):
            dilation = args[0] if args else kwargs.get("dilation", 1)
            ceil = args[1] if len(args) > 1 else kwargs.get("ceil_mode", False)
        else:
            dilation = 1
            ceil = args[0] if args else kwargs.get("ceil_mode", False)
        out = _pool(nd, x, kernel_size, stride if stride is not None else kernel_size, padding, dilation, ceil)
        return (out, out) if getattr(f, "__name__", "").endswith("_with_indices") else out

    return infer


def _pool_costs(m: Any, out: Any, x: Any, *args: Any, **kwargs: Any) -> dict:
    return {"elementwise": numel(x.shape)}


pool_module = Formula(pool_module_infer, _pool_costs, name="pool")
POOL_MODULES = [nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d]
POOL_FUNCTIONS = {
    1: ["max_pool1d", "avg_pool1d", "max_pool1d_with_indices", "_max_pool1d"],
    2: ["max_pool2d", "avg_pool2d", "max_pool2d_with_indices", "_max_pool2d"],
    3: ["max_pool3d", "avg_pool3d", "max_pool3d_with_indices", "_max_pool3d"],
}
func_pools = {nd: Formula(_func_pool(nd), _pool_costs, name=f"pool{nd}d") for nd in POOL_FUNCTIONS}


def adaptive_module_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> Any:
    nd = 2
    for cls, n in ((nn.AdaptiveAvgPool1d, 1), (nn.AdaptiveMaxPool1d, 1), (nn.AdaptiveAvgPool3d, 3), (nn.AdaptiveMaxPool3d, 3)):
        if isinstance(m, cls):
            nd = n
    out = _adaptive(nd, x, m.output_size)
    return (out, out) if getattr(m, "return_indices", False) else out


def _adaptive(nd: int, x: Any, output_size: Any) -> tuple:
    size = ntuple(output_size, nd)
    spatial = x.shape[-nd:]
    return (*x.shape[:-nd], *(s if o is None else o for s, o in zip(spatial, size)))


def _func_adaptive(nd: int):
    def infer(f: Any, x: Any, output_size: Any, *args: Any, **kwargs: Any) -> Any:
        out = _adaptive(nd, x, output_size)
        return (out, out) if getattr(f, "__name__", "").endswith("_with_indices") else out

    return infer


adaptive_module = Formula(adaptive_module_infer, lambda m, out, x, *a, **k: {"elementwise": numel(x.shape)},
                          name="adaptive-pool")
ADAPTIVE_MODULES = [nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
                    nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d]
ADAPTIVE_FUNCTIONS = {nd: [f"adaptive_avg_pool{nd}d", f"adaptive_max_pool{nd}d", f"_adaptive_max_pool{nd}d",
                          f"adaptive_max_pool{nd}d_with_indices"] for nd in (1, 2, 3)}
func_adaptive = {nd: Formula(_func_adaptive(nd), lambda f, out, x, *a, **k: {"elementwise": numel(x.shape)},
                             name=f"adaptive{nd}d") for nd in ADAPTIVE_FUNCTIONS}
del F

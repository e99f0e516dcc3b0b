"""Convolutions: output size and multiply-accumulates (as FlopCounterMode counts them / 2)."""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, evaluate_sym, hp, numel, require, sym_apply
from nas_shapes_torch._util import eq, ntuple, prod


def _conv_out(size: Any, k: Any, s: Any, p: Any, d: Any) -> Any:
    return sym_apply(lambda n, k_, s_, p_, d_: (n + 2 * p_ - d_ * (k_ - 1) - 1) // s_ + 1, size, k, s, p, d)


def conv_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    nd = len(m.kernel_size)
    k, s, d = (ntuple(hp(m, n), nd) for n in ("kernel_size", "stride", "dilation"))
    p = hp(m, "padding")
    cin, cout = hp(m, "in_channels"), hp(m, "out_channels")
    batched = x.ndim == nd + 2
    ch = x.shape[1] if batched else x.shape[0]
    require(eq(ch, cin), lambda s: f"{type(m).__name__} expects {evaluate_sym(cin, s)} input channels but gets "
            f"input shape {list(evaluate_sym(tuple(x.shape), s))}")
    spatial = x.shape[-nd:]
    if isinstance(p, str):
        out_sp = tuple(spatial) if p == "same" else tuple(_conv_out(n, k_, 1, 0, d_) for n, k_, d_ in zip(spatial, k, d))
        if p == "valid":
            out_sp = tuple(_conv_out(n, k_, s_, 0, d_) for n, k_, s_, d_ in zip(spatial, k, s, d))
    else:
        p = ntuple(p, nd)
        out_sp = tuple(_conv_out(n, *a) for n, a in zip(spatial, zip(k, s, p, d)))
    for v in out_sp:
        require(sym_apply(lambda z: z > 0, v), f"{type(m).__name__} output would be empty for input {list(x.shape)}")
    return (x.shape[0], cout, *out_sp) if batched else (cout, *out_sp)


def conv_costs(m: nn.Module, out: tuple, x: Any, *args: Any, **kwargs: Any) -> dict:
    nd = len(m.kernel_size)
    k = ntuple(hp(m, "kernel_size"), nd)
    groups = hp(m, "groups")
    cin = hp(m, "in_channels")
    per_out = sym_apply(lambda c, g: c // g, cin, groups) * prod(k)
    n_out = numel(out)
    costs = {"macs": n_out * per_out}
    if hp(m, "bias") is not False and getattr(m, "bias", None) is not None:
        costs["bias"] = n_out
    return costs


conv = Formula(conv_infer, conv_costs, name="conv")
TARGETS = [nn.Conv1d, nn.Conv2d, nn.Conv3d]

"""Convolutions and transposed convolutions: output size and multiply-accumulates.

MACs are what ``torch.utils.flop_counter`` counts for ``aten.convolution`` divided by 2:
``prod(out spatial) * prod(kernel) * N * C_out * C_in / groups`` for a convolution and
``prod(in spatial) * prod(kernel) * N * C_in * C_out / groups`` for a transposed one.
"""
from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import nn

from nas_core.shapes import Formula, evaluate_sym, hp, numel, require, sym_apply
from nas_shapes_torch._util import eq, ntuple, prod, signature_binder


def _conv_out(size: Any, k: Any, s: Any, p: Any, d: Any) -> Any:
    return sym_apply(lambda n, k_, s_, p_, d_: (n + 2 * p_ - d_ * (k_ - 1) - 1) // s_ + 1, size, k, s, p, d)


def _convt_out(size: Any, k: Any, s: Any, p: Any, d: Any, op: Any) -> Any:
    return sym_apply(lambda n, k_, s_, p_, d_, o_: (n - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o_ + 1, size, k, s, p, d, op)


def _check_channels(name: str, x: Any, ch_dim_batched: bool, cin: Any) -> None:
    ch = x.shape[1] if ch_dim_batched else x.shape[0]
    require(eq(ch, cin), lambda s: f"{name} expects {evaluate_sym(cin, s)} input channels but gets "
            f"input shape {list(evaluate_sym(tuple(x.shape), s))}")


def _spatial(nd: int, x: Any, k: tuple, s: tuple, p: Any, d: tuple) -> tuple:
    spatial = x.shape[-nd:]
    if isinstance(p, str):
        if p == "same":
            return tuple(spatial)
        return tuple(_conv_out(n, k_, s_, 0, d_) for n, k_, s_, d_ in zip(spatial, k, s, d))
    p = ntuple(p, nd)
    return tuple(_conv_out(n, *a) for n, a in zip(spatial, zip(k, s, p, d)))


def conv_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    nd = len(m.kernel_size)
    k, s, d = (ntuple(hp(m, n), nd) for n in ("kernel_size", "stride", "dilation"))
    cin, cout = hp(m, "in_channels"), hp(m, "out_channels")
    batched = x.ndim == nd + 2
    _check_channels(type(m).__name__, x, batched, cin)
    out_sp = _spatial(nd, x, k, s, hp(m, "padding"), d)
    for v in out_sp:
        require(sym_apply(lambda z: z > 0, v), f"{type(m).__name__} output would be empty for input {list(x.shape)}")
    return (x.shape[0], cout, *out_sp) if batched else (cout, *out_sp)


def conv_costs(m: nn.Module, out: tuple, x: Any, *args: Any, **kwargs: Any) -> dict:
    nd = len(m.kernel_size)
    k = ntuple(hp(m, "kernel_size"), nd)
    per_out = sym_apply(lambda c, g: c // g, hp(m, "in_channels"), hp(m, "groups")) * prod(k)
    n_out = numel(out)
    costs = {"macs": n_out * per_out}
    if hp(m, "bias") is not False and getattr(m, "bias", None) is not None:
        costs["bias"] = n_out
    return costs


def convt_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    nd = len(m.kernel_size)
    k, s, d, p, op = (ntuple(hp(m, n), nd) for n in ("kernel_size", "stride", "dilation", "padding", "output_padding"))
    output_size = args[0] if args else kwargs.get("output_size")
    cin, cout = hp(m, "in_channels"), hp(m, "out_channels")
    batched = x.ndim == nd + 2
    _check_channels(type(m).__name__, x, batched, cin)
    if output_size is not None:
        out_sp = tuple(output_size)[-nd:]
    else:
        out_sp = tuple(_convt_out(n, *a) for n, a in zip(x.shape[-nd:], zip(k, s, p, d, op)))
    return (x.shape[0], cout, *out_sp) if batched else (cout, *out_sp)


def convt_costs(m: nn.Module, out: tuple, x: Any, *args: Any, **kwargs: Any) -> dict:
    nd = len(m.kernel_size)
    k = ntuple(hp(m, "kernel_size"), nd)
    per_in = sym_apply(lambda c, g: c // g, hp(m, "out_channels"), hp(m, "groups")) * prod(k)
    costs = {"macs": numel(x.shape) * per_in}
    if getattr(m, "bias", None) is not None:
        costs["bias"] = numel(out)
    return costs


conv = Formula(conv_infer, conv_costs, name="conv")
conv_transpose = Formula(convt_infer, convt_costs, name="conv-transpose")
TARGETS = [nn.Conv1d, nn.Conv2d, nn.Conv3d]
TRANSPOSED_TARGETS = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d]


# -- functional forms: hyper-parameters come from the call, channels from the weight -------
def _func_conv(nd: int):
    binder = signature_binder(lambda input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1: None)

    def infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
        a = binder(args, kwargs)
        x, w = a["input"], a["weight"]
        cout, cin_g = w.shape[0], w.shape[1]
        k = tuple(w.shape[2:])
        s, d = ntuple(a["stride"], nd), ntuple(a["dilation"], nd)
        batched = x.ndim == nd + 2
        _check_channels(f"conv{nd}d", x, batched, cin_g * a["groups"])
        out_sp = _spatial(nd, x, k, s, a["padding"], d)
        return (x.shape[0], cout, *out_sp) if batched else (cout, *out_sp)

    def costs(f: Any, out: tuple, *args: Any, **kwargs: Any) -> dict:
        a = binder(args, kwargs)
        w = a["weight"]
        c = {"macs": numel(out) * numel(w.shape[1:])}
        if a["bias"] is not None:
            c["bias"] = numel(out)
        return c

    return Formula(infer, costs, name=f"conv{nd}d")


def _func_convt(nd: int):
    binder = signature_binder(lambda input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1: None)

    def infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
        a = binder(args, kwargs)
        x, w = a["input"], a["weight"]
        g = a["groups"]
        cout = w.shape[1] * g
        k = tuple(w.shape[2:])
        s, p, op, d = (ntuple(a[n], nd) for n in ("stride", "padding", "output_padding", "dilation"))
        batched = x.ndim == nd + 2
        out_sp = tuple(_convt_out(n, *t) for n, t in zip(x.shape[-nd:], zip(k, s, p, d, op)))
        return (x.shape[0], cout, *out_sp) if batched else (cout, *out_sp)

    def costs(f: Any, out: tuple, *args: Any, **kwargs: Any) -> dict:
        a = binder(args, kwargs)
        x, w = a["input"], a["weight"]
        c = {"macs": numel(x.shape) * numel(w.shape[1:])}
        if a["bias"] is not None:
            c["bias"] = numel(out)
        return c

    return Formula(infer, costs, name=f"conv_transpose{nd}d")


FUNCTIONS = {f"conv{nd}d": _func_conv(nd) for nd in (1, 2, 3)}
FUNCTIONS.update({f"conv_transpose{nd}d": _func_convt(nd) for nd in (1, 2, 3)})
del F

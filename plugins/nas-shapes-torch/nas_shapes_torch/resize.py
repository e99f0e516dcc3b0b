"""Resizing: Upsample/interpolate, pixel (un)shuffle, padding. Cost: one ``elementwise``
per output element for interpolation; padding and shuffles cost nothing."""
from __future__ import annotations

import math
from typing import Any

from torch import nn
from torch.nn.modules import padding as _padding

from nas_core.shapes import Formula, numel, same_shape, sym_apply
from nas_shapes_torch._util import ntuple, signature_binder, unwrap

_interp = signature_binder(lambda input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                           recompute_scale_factor=None, antialias=False: None)


def _resize(x: Any, size: Any, scale: Any) -> tuple:
    nd = x.ndim - 2
    if size is not None:
        sp = tuple(unwrap(s) for s in ntuple(size, nd))
    else:
        sc = ntuple(scale, nd)
        sp = tuple(sym_apply(lambda n, f: int(math.floor(float(n) * f)), n, f) for n, f in zip(x.shape[2:], sc))
    return (*x.shape[:2], *sp)


def interpolate_infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
    a = _interp(args, kwargs)
    return _resize(a["input"], a["size"], a["scale_factor"])


def upsample_infer(m: nn.Upsample, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return _resize(x, m.size, m.scale_factor)


def _out_cost(target: Any, out: Any, *args: Any, **kwargs: Any) -> dict:
    return {"elementwise": numel(out)}


interpolate = Formula(interpolate_infer, _out_cost, name="interpolate")
upsample = Formula(upsample_infer, _out_cost, name="upsample")
UPSAMPLE_MODULES = [nn.Upsample]
INTERPOLATE_FUNCTIONS = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]


def _pixel_shuffle(x: Any, r: int, inverse: bool) -> tuple:
    c, h, w = x.shape[-3:]
    if inverse:
        return (*x.shape[:-3], c * r * r, sym_apply(lambda v: v // r, h), sym_apply(lambda v: v // r, w))
    return (*x.shape[:-3], sym_apply(lambda v: v // (r * r), c), h * r, w * r)


pixel_shuffle_module = Formula(lambda m, x, *a, **k: _pixel_shuffle(x, m.upscale_factor, False), name="pixel-shuffle")
pixel_unshuffle_module = Formula(lambda m, x, *a, **k: _pixel_shuffle(x, m.downscale_factor, True), name="pixel-unshuffle")
pixel_shuffle_function = Formula(lambda f, x, r, *a, **k: _pixel_shuffle(x, r, False), name="pixel-shuffle")
pixel_unshuffle_function = Formula(lambda f, x, r, *a, **k: _pixel_shuffle(x, r, True), name="pixel-unshuffle")


def _padded(x: Any, pad: Any) -> tuple:
    pad = tuple(unwrap(p) for p in pad)
    shape = list(x.shape)
    for i in range(len(pad) // 2):
        d = len(shape) - 1 - i
        shape[d] = shape[d] + pad[2 * i] + pad[2 * i + 1]
    return tuple(shape)


pad_function = Formula(lambda f, x, pad, *a, **k: _padded(x, pad), name="pad")
pad_module = Formula(lambda m, x, *a, **k: _padded(x, m.padding), name="pad")
PAD_MODULES = [getattr(_padding, n) for n in ("_ConstantPadNd", "_ReflectionPadNd", "_ReplicationPadNd", "_CircularPadNd")
               if hasattr(_padding, n)]
shuffle = Formula(same_shape, name="channel-shuffle")

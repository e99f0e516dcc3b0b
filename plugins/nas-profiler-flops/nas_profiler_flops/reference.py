"""A reference MAC count of a concrete model: ``torch.utils.flop_counter.FlopCounterMode``.

FlopCounterMode counts ``aten`` convolutions and matrix products (2 FLOPs per MAC). On
CPU it has no formula for a few kernels that do matrix products: the CPU kernel of
``scaled_dot_product_attention``, the fused ``nn.MultiheadAttention`` and
``nn.TransformerEncoderLayer`` fast paths (taken in eval mode under ``torch.no_grad``)
and matrix-vector products (``aten.mv``, ``aten.dot``). :func:`flop_counter_mapping`
supplies them, built from torch's own ``sdpa_flop_count``/``mm_flop``, so the reference
counts the same products whichever path torch takes.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.utils import flop_counter as _fc

__all__ = ["flop_counter_mapping", "reference_flops", "reference_macs"]

aten = torch.ops.aten


def _sdpa_cpu(query, key, value, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return _fc.sdpa_flop_count(query, key, value)


def _mha_flops(n: int, l_: int, s: int, e: int, heads: int) -> int:
    proj = _fc.mm_flop((n * l_, e), (e, e)) + 2 * _fc.mm_flop((n * s, e), (e, e)) + _fc.mm_flop((n * l_, e), (e, e))
    hd = e // heads
    return proj + _fc.sdpa_flop_count((n, heads, l_, hd), (n, heads, s, hd), (n, heads, s, hd))


def _native_mha(query, key, value, embed_dim, num_head, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    n, l_ = (1, query[0]) if len(query) == 2 else (query[0], query[1])
    s = key[0] if len(key) == 2 else key[1]
    return _mha_flops(n, l_, s, embed_dim, num_head)


def _encoder_layer(src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias, use_gelu, norm_first, eps,
                   norm_weight_1, norm_bias_1, norm_weight_2, norm_bias_2, ffn_weight_1, *args: Any,
                   out_shape: Any = None, **kwargs: Any) -> int:
    n, l_ = (1, src[0]) if len(src) == 2 else (src[0], src[1])
    ff = ffn_weight_1[0]
    return _mha_flops(n, l_, l_, embed_dim, num_heads) + 2 * _fc.mm_flop((n * l_, embed_dim), (embed_dim, ff))


def _mv(a, b, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * a[0] * a[1]


def _dot(a, b, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return 2 * a[0]


def flop_counter_mapping() -> dict:
    """``custom_mapping`` for FlopCounterMode covering the CPU kernels it lacks."""
    mapping = {aten.mv: _mv, aten.dot: _dot}
    for name, fn in (("_scaled_dot_product_flash_attention_for_cpu", _sdpa_cpu),
                     ("_native_multi_head_attention", _native_mha),
                     ("_transformer_encoder_layer_fwd", _encoder_layer)):
        op = getattr(aten, name, None)
        if op is not None:
            mapping[op] = fn
    return mapping


def reference_flops(model: torch.nn.Module, *inputs: Any, **kwargs: Any) -> int:
    """FLOPs (2 per MAC) FlopCounterMode counts for ``model(*inputs)``, with :func:`flop_counter_mapping`."""
    with _fc.FlopCounterMode(display=False, custom_mapping=flop_counter_mapping()) as counter:
        model(*inputs, **kwargs)
    return int(counter.get_total_flops())


def reference_macs(model: torch.nn.Module, *inputs: Any, **kwargs: Any) -> int:
    """:func:`reference_flops` / 2."""
    return reference_flops(model, *inputs, **kwargs) // 2

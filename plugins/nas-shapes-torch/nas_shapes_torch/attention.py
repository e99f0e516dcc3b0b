"""Attention: ``nn.MultiheadAttention`` (module formula) and ``scaled_dot_product_attention``.

MACs are those of the projections and of the two attention products, exactly as
``torch.utils.flop_counter`` counts them: in the slow path the projections run as
``addmm``/``mm`` and the products as ``bmm``/``baddbmm`` (``need_weights=True``) or as
``scaled_dot_product_attention`` (``need_weights=False``), which FlopCounterMode counts
with the same ``b*h*L*S*(d_q + d_v)`` formula. ``TransformerEncoderLayer`` and
``TransformerDecoderLayer`` need no formula of their own: shape inference opens them
and finds attention, linear, layer-norm, dropout and residual adds inside.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, evaluate_sym, numel, require
from nas_shapes_torch._util import eq, signature_binder

_mha_args = signature_binder(lambda query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                             average_attn_weights=True, is_causal=False: None)


def _mha_dims(m: nn.MultiheadAttention, q: Any, k: Any) -> tuple:
    """(batch, target length, source length incl. added keys, batched?)."""
    batched = q.ndim == 3
    if not batched:
        n, l_, s = 1, q.shape[0], k.shape[0]
    elif m.batch_first:
        n, l_, s = q.shape[0], q.shape[1], k.shape[1]
    else:
        n, l_, s = q.shape[1], q.shape[0], k.shape[0]
    extra = (1 if m.bias_k is not None else 0) + (1 if m.add_zero_attn else 0)
    return n, l_, s, s + extra, batched


def mha_infer(m: nn.MultiheadAttention, *args: Any, **kwargs: Any) -> tuple:
    a = _mha_args(args, kwargs)
    q, k, v = a["query"], a["key"], a["value"]
    e = m.embed_dim
    require(eq(q.shape[-1], e), lambda s: f"MultiheadAttention expects query features {e} but gets query shape "
            f"{list(evaluate_sym(tuple(q.shape), s))}")
    require(eq(k.shape[-1], m.kdim), lambda s: f"MultiheadAttention expects key features {m.kdim} but gets key shape "
            f"{list(evaluate_sym(tuple(k.shape), s))}")
    require(eq(v.shape[-1], m.vdim), lambda s: f"MultiheadAttention expects value features {m.vdim} but gets value "
            f"shape {list(evaluate_sym(tuple(v.shape), s))}")
    n, l_, _, s_all, batched = _mha_dims(m, q, k)
    out = (*q.shape[:-1], e)
    if not a["need_weights"]:
        return (out, None)
    per_head = (l_, s_all) if a["average_attn_weights"] else (m.num_heads, l_, s_all)
    return (out, (n, *per_head) if batched else per_head)


def mha_costs(m: nn.MultiheadAttention, out: Any, *args: Any, **kwargs: Any) -> dict:
    a = _mha_args(args, kwargs)
    q, k = a["query"], a["key"]
    e = m.embed_dim
    n, l_, s, s_all, _ = _mha_dims(m, q, k)
    macs = n * l_ * e * e + n * s * (m.kdim + m.vdim) * e  # in-projections
    macs = macs + 2 * n * l_ * s_all * e  # q @ k^T and attn @ v over all heads
    macs = macs + n * l_ * e * e  # out-projection
    costs: dict[str, Any] = {"macs": macs, "elementwise": n * m.num_heads * l_ * s_all}  # the softmax
    bias = 0
    if m.in_proj_bias is not None:
        bias = bias + n * (l_ + 2 * s) * e
    if m.out_proj.bias is not None:
        bias = bias + n * l_ * e
    if not (isinstance(bias, int) and bias == 0):
        costs["bias"] = bias
    return costs


multihead_attention = Formula(mha_infer, mha_costs, name="multihead-attention")
MHA_MODULES = [nn.MultiheadAttention]

_sdpa_args = signature_binder(lambda query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                              enable_gqa=False: None)


def sdpa_infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
    a = _sdpa_args(args, kwargs)
    q, k, v = a["query"], a["key"], a["value"]
    require(eq(q.shape[-1], k.shape[-1]), lambda s: f"scaled_dot_product_attention: query {list(evaluate_sym(tuple(q.shape), s))} "
            f"and key {list(evaluate_sym(tuple(k.shape), s))} differ in their last dimension")
    return (*q.shape[:-1], v.shape[-1])


def sdpa_costs(f: Any, out: Any, *args: Any, **kwargs: Any) -> dict:
    a = _sdpa_args(args, kwargs)
    q, k, v = a["query"], a["key"], a["value"]
    rows = numel(q.shape[:-1])
    s = k.shape[-2]
    return {"macs": rows * s * (q.shape[-1] + v.shape[-1]), "elementwise": rows * s}


scaled_dot_product_attention = Formula(sdpa_infer, sdpa_costs, name="scaled-dot-product-attention")
SDPA_FUNCTIONS = ["scaled_dot_product_attention"]

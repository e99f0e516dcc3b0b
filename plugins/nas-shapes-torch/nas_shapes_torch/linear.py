"""Linear layers, embeddings and matrix products.

MACs follow ``torch.utils.flop_counter``: ``mm``/``addmm``/``bmm``/``baddbmm`` count
``2 * b * n * k * m`` FLOPs, i.e. ``b * n * k * m`` MACs; ``linear`` and ``matmul``
reach those kernels, so their MACs are ``prod(output) * k``. FlopCounterMode has no
formula for ``aten.mv``/``aten.dot`` (a matrix times a vector); this pack counts their
true MACs, which is what the reference counter of nas-profiler-flops counts too.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from nas_core.shapes import Formula, evaluate_sym, hp, numel, require, sym_apply
from nas_shapes_torch._util import eq, signature_binder


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

_lin = signature_binder(lambda input, weight, bias=None: None)


def _linear_f_infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
    a = _lin(args, kwargs)
    x, w = a["input"], a["weight"]
    require(eq(x.shape[-1], w.shape[-1]), lambda s: f"linear: input {list(evaluate_sym(tuple(x.shape), s))} does not "
            f"match weight {list(evaluate_sym(tuple(w.shape), s))}")
    return (*x.shape[:-1], *w.shape[:-1])


def _linear_f_costs(f: Any, out: tuple, *args: Any, **kwargs: Any) -> dict:
    a = _lin(args, kwargs)
    c = {"macs": numel(out) * a["weight"].shape[-1]}
    if a["bias"] is not None:
        c["bias"] = numel(out)
    return c


linear_function = Formula(_linear_f_infer, _linear_f_costs, name="linear")


# -- embeddings -----------------------------------------------------------------------
def embedding_module_infer(m: nn.Module, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return (*x.shape, hp(m, "embedding_dim"))


def embedding_bag_infer(m: nn.Module, x: Any, offsets: Any = None, *args: Any, **kwargs: Any) -> tuple:
    offsets = offsets if offsets is not None else kwargs.get("offsets")
    bags = x.shape[0] if x.ndim == 2 else offsets.shape[0]
    return (bags, hp(m, "embedding_dim"))


def _embedding_f_infer(f: Any, x: Any, weight: Any, *args: Any, **kwargs: Any) -> tuple:
    return (*x.shape, weight.shape[-1])


embedding_module = Formula(embedding_module_infer, name="embedding")
embedding_bag_module = Formula(embedding_bag_infer, lambda m, out, x, *a, **k: {"elementwise": numel(x.shape) * hp(m, "embedding_dim")},
                               name="embedding-bag")
embedding_function = Formula(_embedding_f_infer, name="embedding")


# -- matrix products -------------------------------------------------------------------
def _broadcast_batch(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        require(sym_apply(lambda p, q: p == q or p == 1 or q == 1, x, y), f"matmul: batch dims {list(a)} and {list(b)} "
                "do not broadcast")
        out.append(sym_apply(lambda p, q: q if p == 1 else p, x, y))
    return tuple(out)


def matmul_shape(a: tuple, b: tuple) -> tuple:
    """Output shape of ``torch.matmul`` for operand shapes ``a`` and ``b``."""
    if len(a) == 0 or len(b) == 0:
        raise ValueError("matmul operands must have at least one dimension")
    k_a = a[-1]
    k_b = b[0] if len(b) == 1 else b[-2]
    require(eq(k_a, k_b), f"matmul: inner sizes differ ({list(a)} @ {list(b)})")
    if len(a) == 1 and len(b) == 1:
        return ()
    if len(b) == 1:
        return tuple(a[:-1])
    if len(a) == 1:
        return (*b[:-2], b[-1])
    return (*_broadcast_batch(a[:-2], b[:-2]), a[-2], b[-1])


def _matmul_infer(f: Any, a: Any, b: Any = None, *args: Any, **kwargs: Any) -> tuple:
    b = b if b is not None else kwargs.get("other", kwargs.get("mat2"))
    if getattr(f, "__name__", "") == "__rmatmul__":
        a, b = b, a
    return matmul_shape(tuple(a.shape), tuple(b.shape))


def _matmul_costs(f: Any, out: tuple, a: Any, b: Any = None, *args: Any, **kwargs: Any) -> dict:
    b = b if b is not None else kwargs.get("other", kwargs.get("mat2"))
    if getattr(f, "__name__", "") == "__rmatmul__":
        a, b = b, a
    return {"macs": numel(out) * a.shape[-1]}


matmul = Formula(_matmul_infer, _matmul_costs, name="matmul")
MATMUL_FUNCTIONS = ["matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "mv", "dot", "inner_product_1d"]


def _addmm_infer(f: Any, inp: Any, a: Any, b: Any, *args: Any, **kwargs: Any) -> tuple:
    return matmul_shape(tuple(a.shape), tuple(b.shape))


def _addmm_costs(f: Any, out: tuple, inp: Any, a: Any, b: Any, *args: Any, **kwargs: Any) -> dict:
    return {"macs": numel(out) * a.shape[-1], "elementwise": numel(out)}


addmm = Formula(_addmm_infer, _addmm_costs, name="addmm")
ADDMM_FUNCTIONS = ["addmm", "baddbmm", "addmv", "addmm_", "baddbmm_"]

"""Reductions over dimensions (mean, sum, amax, max with dim, std...). Cost: one
``elementwise`` per input element."""
from __future__ import annotations

from typing import Any

from nas_core.shapes import Formula, numel
from nas_shapes_torch._util import norm_dim
from nas_shapes_torch.elementwise import broadcast_shapes


def _reduced(x: Any, dim: Any, keepdim: bool) -> tuple:
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(1 for _ in x.shape) if keepdim else ()
    dims = {norm_dim(d, x.ndim) for d in (dim if isinstance(dim, (tuple, list)) else [dim])}
    if keepdim:
        return tuple(1 if i in dims else v for i, v in enumerate(x.shape))
    return tuple(v for i, v in enumerate(x.shape) if i not in dims)


def reduce_infer(f: Any, x: Any, dim: Any = None, keepdim: Any = False, *args: Any, **kwargs: Any) -> tuple:
    dim = kwargs.get("dim", kwargs.get("axis", dim))
    if not isinstance(keepdim, bool):  # e.g. std(x, dim, unbiased) or sum(x, dim, dtype)
        keepdim = False
    return _reduced(x, dim, kwargs.get("keepdim", keepdim))


def reduce_with_indices_infer(f: Any, x: Any, dim: Any = None, keepdim: bool = False, *args: Any, **kwargs: Any) -> Any:
    """``max``/``min``/``median``/``mode``/``sort``-style: a shape without dim, (values, indices) with it."""
    if hasattr(dim, "shape"):  # max(x, other): element-wise
        return broadcast_shapes(tuple(x.shape), tuple(dim.shape))
    dim = kwargs.get("dim", dim)
    if dim is None:
        return ()
    shape = _reduced(x, dim, kwargs.get("keepdim", keepdim))
    return (shape, shape)


def _norm_infer(f: Any, x: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, *args: Any, **kwargs: Any) -> tuple:
    return _reduced(x, kwargs.get("dim", dim), kwargs.get("keepdim", keepdim))


def _cost(f: Any, out: Any, x: Any, *args: Any, **kwargs: Any) -> dict:
    return {"elementwise": numel(x.shape)}


reduce = Formula(reduce_infer, _cost, name="reduce")
reduce_with_indices = Formula(reduce_with_indices_infer, _cost, name="reduce-with-indices")
norm = Formula(_norm_infer, _cost, name="norm-reduce")
REDUCE_FUNCTIONS = ["mean", "sum", "nansum", "nanmean", "amax", "amin", "prod", "std", "var", "logsumexp", "all", "any",
                    "argmax", "argmin", "count_nonzero"]
WITH_INDICES_FUNCTIONS = ["max", "min", "median", "nanmedian", "mode"]
NORM_REDUCE_FUNCTIONS = ["norm"]

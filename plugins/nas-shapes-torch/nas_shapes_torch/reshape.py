"""Shape-only ops: flatten/view/reshape (also on choice-dependent shapes), permute,
transpose, (un)squeeze, expand, repeat, cat/stack, chunk/split/unbind, basic indexing.

None of these costs anything except ``repeat`` and ``cat``/``stack``, which copy (no
cost kind counts copies; they report none).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn

from nas_core.errors import ShapeInferenceError
from nas_core.shapes import Formula, Sym, evaluate_sym, is_sym, numel, require, sym_apply
from nas_shapes_torch._util import eq, norm_dim, unwrap


def _flatten(x: Any, start: int = 0, end: int = -1) -> tuple:
    nd = x.ndim
    if nd == 0:
        return (1,)
    start = start % nd
    end = end % nd
    if start > end:
        return tuple(x.shape)
    mid = numel(x.shape[start:end + 1])
    return (*x.shape[:start], mid, *x.shape[end + 1:])


def flatten_module_infer(m: nn.Flatten, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return _flatten(x, m.start_dim, m.end_dim)


def flatten_func_infer(f: Any, x: Any, start_dim: int = 0, end_dim: int = -1, **kwargs: Any) -> tuple:
    return _flatten(x, kwargs.get("start_dim", start_dim), kwargs.get("end_dim", end_dim))


def _sizes(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(unwrap(s) for s in shape)


def _is_minus_one(s: Any) -> bool:
    return not is_sym(s) and s == -1


def view_infer(f: Any, x: Any, *shape: Any, **kwargs: Any) -> tuple:
    if "size" in kwargs or "shape" in kwargs:
        shape = (kwargs.get("size", kwargs.get("shape")),)
    shape = _sizes(shape)
    total = numel(x.shape)
    if any(_is_minus_one(s) for s in shape):
        known = numel([s for s in shape if not _is_minus_one(s)])
        rest = sym_apply(lambda t, k: t // k if k else 0, total, known)
        require(sym_apply(lambda t, k: k != 0 and t % k == 0, total, known),
                lambda s: f"cannot view a tensor of {evaluate_sym(total, s)} elements as {list(evaluate_sym(shape, s))}")
        return tuple(rest if _is_minus_one(s) else s for s in shape)
    require(eq(total, numel(shape)),
            lambda s: f"cannot view a tensor of {evaluate_sym(total, s)} elements as {list(evaluate_sym(shape, s))}")
    return tuple(shape)


def unflatten_infer(f: Any, x: Any, dim: int, sizes: Any, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(dim, x.ndim)
    sizes = _sizes(tuple(sizes))
    n = x.shape[dim]
    if any(_is_minus_one(s) for s in sizes):
        known = numel([s for s in sizes if not _is_minus_one(s)])
        sizes = tuple(sym_apply(lambda t, k: t // k, n, known) if _is_minus_one(s) else s for s in sizes)
    return (*x.shape[:dim], *sizes, *x.shape[dim + 1:])


def unflatten_module_infer(m: nn.Unflatten, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return unflatten_infer(m, x, m.dim, m.unflattened_size)


def permute_infer(f: Any, x: Any, *dims: Any, **kwargs: Any) -> tuple:
    if "dims" in kwargs:
        dims = (kwargs["dims"],)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return tuple(x.shape[norm_dim(d, x.ndim)] for d in dims)


def transpose_infer(f: Any, x: Any, d0: Any = None, d1: Any = None, *args: Any, **kwargs: Any) -> tuple:
    if x.ndim < 2 and d0 is None:
        return tuple(x.shape)
    if d0 is None:  # .t()
        d0, d1 = 0, 1
    d0, d1 = norm_dim(d0, x.ndim), norm_dim(d1, x.ndim)
    s = list(x.shape)
    s[d0], s[d1] = s[d1], s[d0]
    return tuple(s)


def movedim_infer(f: Any, x: Any, source: Any, destination: Any, *args: Any, **kwargs: Any) -> tuple:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    nd = x.ndim
    src = [norm_dim(d, nd) for d in src]
    dst = [norm_dim(d, nd) for d in dst]
    order: list[Any] = [None] * nd
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    rest = iter(d for d in range(nd) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return tuple(x.shape[o] for o in order)


def unsqueeze_infer(f: Any, x: Any, dim: int = None, *args: Any, **kwargs: Any) -> tuple:
    dim = kwargs.get("dim", dim)
    dim = dim % (x.ndim + 1)
    s = list(x.shape)
    s.insert(dim, 1)
    return tuple(s)


def squeeze_infer(f: Any, x: Any, dim: Any = None, *args: Any, **kwargs: Any) -> tuple:
    dim = kwargs.get("dim", dim)
    nd = x.ndim
    dims = range(nd) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = {norm_dim(d, nd) for d in dims} if nd else set()
    out = []
    for i, v in enumerate(x.shape):
        if i in dims:
            if is_sym(v):
                require(sym_apply(lambda n: n != 1, v),
                        "squeeze over a dimension that is 1 only for some samples changes the rank; "
                        "squeeze a fixed dimension instead")
            elif v == 1:
                continue
        out.append(v)
    return tuple(out)


def expand_infer(f: Any, x: Any, *sizes: Any, **kwargs: Any) -> tuple:
    if "size" in kwargs:
        sizes = (kwargs["size"],)
    sizes = _sizes(sizes)
    lead = len(sizes) - x.ndim
    out = []
    for i, s in enumerate(sizes):
        if _is_minus_one(s):
            out.append(x.shape[i - lead])
        else:
            out.append(s)
    return tuple(out)


def repeat_infer(f: Any, x: Any, *sizes: Any, **kwargs: Any) -> tuple:
    if "repeats" in kwargs:
        sizes = (kwargs["repeats"],)
    sizes = _sizes(sizes)
    sizes = (1,) * (x.ndim - len(sizes)) + tuple(sizes)
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    return tuple(a * b for a, b in zip(shape, sizes))


def _tensor_list(tensors: Any) -> list:
    return [t for t in tensors if hasattr(t, "shape")]


def cat_infer(f: Any, tensors: Any, dim: int = 0, *args: Any, **kwargs: Any) -> tuple:
    dim = kwargs.get("dim", kwargs.get("axis", dim))
    ts = [t for t in _tensor_list(tensors) if not (t.ndim == 1 and not is_sym(t.shape[0]) and t.shape[0] == 0)]
    if not ts:
        return (0,)
    nd = ts[0].ndim
    dim = norm_dim(dim, nd)
    size: Any = 0
    for t in ts:
        size = size + t.shape[dim]
    base = list(ts[0].shape)
    for t in ts[1:]:
        for i, (a, b) in enumerate(zip(base, t.shape)):
            if i != dim:
                require(eq(a, b), lambda s, t=t: f"cat: shapes {[list(evaluate_sym(tuple(u.shape), s)) for u in ts]} "
                        f"differ outside dimension {dim}")
    base[dim] = size
    return tuple(base)


def stack_infer(f: Any, tensors: Any, dim: int = 0, *args: Any, **kwargs: Any) -> tuple:
    dim = kwargs.get("dim", dim)
    ts = _tensor_list(tensors)
    s = list(ts[0].shape)
    s.insert(dim % (len(s) + 1), len(ts))
    return tuple(s)


def _need_plain(n: Any, what: str) -> int:
    if is_sym(n):
        raise ShapeInferenceError(
            f"{what} over a dimension whose size depends on the sample gives a sample-dependent number of "
            "outputs; split into a fixed number of pieces (chunk) or by explicit sizes instead"
        )
    return n


def chunk_infer(f: Any, x: Any, chunks: int, dim: int = 0, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(kwargs.get("dim", dim), x.ndim)
    n = x.shape[dim]
    if not is_sym(n):
        size = -(-n // chunks)
        pieces = [min(size, n - i) for i in range(0, n, size)] if size else [0]
    else:
        size = sym_apply(lambda v: -(-v // chunks), n)
        require(sym_apply(lambda v: v % chunks == 0, n),
                lambda s: f"chunk({chunks}) of a dimension of size {evaluate_sym(n, s)} gives a different number "
                "of pieces than for other samples; make the size divisible by the number of chunks")
        pieces = [size] * chunks
    return tuple((*x.shape[:dim], p, *x.shape[dim + 1:]) for p in pieces)


def split_infer(f: Any, x: Any, split_size: Any, dim: int = 0, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(kwargs.get("dim", dim), x.ndim)
    n = x.shape[dim]
    if isinstance(split_size, (list, tuple)):
        pieces = list(split_size)
    else:
        n = _need_plain(n, "split by a size")
        split_size = _need_plain(unwrap(split_size), "split")
        pieces = [min(split_size, n - i) for i in range(0, n, split_size)]
    return tuple((*x.shape[:dim], p, *x.shape[dim + 1:]) for p in pieces)


def unbind_infer(f: Any, x: Any, dim: int = 0, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(kwargs.get("dim", dim), x.ndim)
    n = _need_plain(x.shape[dim], "unbind")
    return tuple((*x.shape[:dim], *x.shape[dim + 1:]) for _ in range(n))


def narrow_infer(f: Any, x: Any, dim: int, start: Any, length: Any, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(dim, x.ndim)
    return (*x.shape[:dim], unwrap(length), *x.shape[dim + 1:])


def select_infer(f: Any, x: Any, dim: int, index: Any, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(dim, x.ndim)
    return (*x.shape[:dim], *x.shape[dim + 1:])


def index_select_infer(f: Any, x: Any, dim: int, index: Any, *args: Any, **kwargs: Any) -> tuple:
    dim = norm_dim(dim, x.ndim)
    return (*x.shape[:dim], index.shape[0], *x.shape[dim + 1:])


def gather_infer(f: Any, x: Any, dim: int, index: Any, *args: Any, **kwargs: Any) -> tuple:
    return tuple(index.shape)


def _slice_len(n: Any, sl: slice) -> Any:
    start, stop, step = unwrap(sl.start), unwrap(sl.stop), unwrap(sl.step)
    return sym_apply(lambda n_, a, b, c: len(range(*slice(a, b, c).indices(n_))), n, start, stop, step)


def getitem_infer(f: Any, x: Any, index: Any, *args: Any, **kwargs: Any) -> tuple:
    idx: Sequence[Any] = index if isinstance(index, tuple) else (index,)
    n_consumed = sum(1 for i in idx if i is not None and i is not Ellipsis and not isinstance(i, bool))
    out: list[Any] = []
    adv: list[tuple] = []
    dim = 0
    for i in idx:
        if i is Ellipsis:
            skip = x.ndim - n_consumed
            out.extend(x.shape[dim:dim + skip])
            dim += skip
        elif i is None:
            out.append(1)
        elif isinstance(i, slice):
            out.append(_slice_len(x.shape[dim], i))
            dim += 1
        elif hasattr(i, "shape"):  # a tensor index (advanced indexing)
            if i.dtype == torch.bool:
                raise ShapeInferenceError(
                    "indexing with a boolean mask gives a data-dependent shape; shape inference cannot follow it. "
                    "Declare the enclosing module a leaf with @nas_core.shapes.leaf(shape=..., costs=...)"
                )
            adv.append(tuple(i.shape))
            out.append(("adv", len(adv) - 1))
            dim += 1
        elif isinstance(i, (list,)):
            adv.append((len(i),))
            out.append(("adv", len(adv) - 1))
            dim += 1
        elif isinstance(i, bool):
            out.append(1 if i else 0)
        else:  # an int (or an int depending on the sample): the dimension goes away
            dim += 1
    out.extend(x.shape[dim:])
    if not adv:
        return tuple(out)
    from nas_shapes_torch.elementwise import broadcast_shapes

    adv_shape = broadcast_shapes(*adv)
    positions = [k for k, v in enumerate(out) if isinstance(v, tuple)]
    contiguous = positions == list(range(positions[0], positions[0] + len(positions)))
    plain = [v for v in out if not isinstance(v, tuple)]
    at = positions[0] if contiguous else 0
    return (*plain[:at], *adv_shape, *plain[at:])


flatten_module = Formula(flatten_module_infer, name="flatten")
flatten_func = Formula(flatten_func_infer, name="flatten")
view = Formula(view_infer, name="view")
unflatten = Formula(unflatten_infer, name="unflatten")
unflatten_module = Formula(unflatten_module_infer, name="unflatten")
permute = Formula(permute_infer, name="permute")
transpose = Formula(transpose_infer, name="transpose")
movedim = Formula(movedim_infer, name="movedim")
unsqueeze = Formula(unsqueeze_infer, name="unsqueeze")
squeeze = Formula(squeeze_infer, name="squeeze")
expand = Formula(expand_infer, name="expand")
repeat = Formula(repeat_infer, name="repeat")
cat = Formula(cat_infer, presence="all", name="cat")
stack = Formula(stack_infer, name="stack")
chunk = Formula(chunk_infer, name="chunk")
split = Formula(split_infer, name="split")
unbind = Formula(unbind_infer, name="unbind")
narrow = Formula(narrow_infer, name="narrow")
select = Formula(select_infer, name="select")
index_select = Formula(index_select_infer, name="index_select")
gather = Formula(gather_infer, name="gather")
getitem = Formula(getitem_infer, name="getitem")

FUNCTIONS = {
    "view": view, "reshape": view, "_reshape_alias": view,
    "unflatten": unflatten,
    "permute": permute,
    "transpose": transpose, "transpose_": transpose, "swapaxes": transpose, "swapdims": transpose, "t": transpose,
    "movedim": movedim, "moveaxis": movedim,
    "unsqueeze": unsqueeze, "unsqueeze_": unsqueeze, "squeeze": squeeze, "squeeze_": squeeze,
    "expand": expand, "broadcast_to": expand, "repeat": repeat, "tile": repeat,
    "cat": cat, "concat": cat, "concatenate": cat, "stack": stack,
    "chunk": chunk, "split": split, "split_with_sizes": split, "unsafe_split": split, "unbind": unbind,
    "narrow": narrow, "select": select, "index_select": index_select, "gather": gather,
    "__getitem__": getitem,
}
del math, Sym

"""Tensor creation inside forward (zeros, ones, arange, full, *_like...): shape only, no cost."""
from __future__ import annotations

import math
from typing import Any

from nas_core.shapes import Formula, same_shape, sym_apply
from nas_shapes_torch._util import unwrap


def _size_args(args: tuple, kwargs: dict) -> tuple:
    if "size" in kwargs:
        args = (kwargs["size"],)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(unwrap(a) for a in args)


def sized_infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
    return _size_args(args, kwargs)


def full_infer(f: Any, size: Any, *args: Any, **kwargs: Any) -> tuple:
    return _size_args((size,), {})


def new_sized_infer(f: Any, x: Any, *args: Any, **kwargs: Any) -> tuple:
    return _size_args(args, kwargs)


def new_full_infer(f: Any, x: Any, size: Any, *args: Any, **kwargs: Any) -> tuple:
    return _size_args((size,), {})


def arange_infer(f: Any, *args: Any, **kwargs: Any) -> tuple:
    nums = [unwrap(a) for a in args if not hasattr(a, "shape")]
    start, end, step = 0, None, 1
    if "end" in kwargs:
        start, end = kwargs.get("start", nums[0] if nums else 0), kwargs["end"]
    elif len(nums) == 1:
        end = nums[0]
    elif len(nums) == 2:
        start, end = nums
    else:
        start, end, step = nums[:3]
    step = kwargs.get("step", step)
    return (sym_apply(lambda a, b, c: max(0, math.ceil((b - a) / c)), start, end, step),)


def linspace_infer(f: Any, start: Any, end: Any, steps: Any, *args: Any, **kwargs: Any) -> tuple:
    return (unwrap(steps),)


def eye_infer(f: Any, n: Any, m: Any = None, *args: Any, **kwargs: Any) -> tuple:
    m = kwargs.get("m", m)
    return (unwrap(n), unwrap(m if m is not None and not hasattr(m, "shape") else n))


def _nested_shape(data: Any) -> tuple:
    if isinstance(data, (list, tuple)):
        return (len(data), *(_nested_shape(data[0]) if data else ()))
    if hasattr(data, "shape"):
        return tuple(data.shape)
    return ()


def tensor_infer(f: Any, data: Any, *args: Any, **kwargs: Any) -> tuple:
    return _nested_shape(data)


sized = Formula(sized_infer, name="creation")
full = Formula(full_infer, name="full")
new_sized = Formula(new_sized_infer, name="new-tensor")
new_full = Formula(new_full_infer, name="new-full")
like = Formula(same_shape, name="like")
arange = Formula(arange_infer, name="arange")
linspace = Formula(linspace_infer, name="linspace")
eye = Formula(eye_infer, name="eye")
tensor = Formula(tensor_infer, name="tensor")
FUNCTIONS = {
    **{n: sized for n in ("zeros", "ones", "empty", "rand", "randn")},
    "full": full,
    **{n: new_sized for n in ("new_zeros", "new_ones", "new_empty")},
    "new_full": new_full,
    **{n: like for n in ("zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like",
                         "randint_like", "bernoulli", "bernoulli_", "normal_", "uniform_")},
    "arange": arange, "linspace": linspace, "logspace": linspace, "eye": eye,
    "tensor": tensor, "as_tensor": tensor, "scalar_tensor": tensor, "new_tensor": Formula(lambda f, x, d, *a, **k: _nested_shape(d), name="new-tensor"),
}

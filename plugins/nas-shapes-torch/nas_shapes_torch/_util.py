"""Small helpers shared by the formulas of this pack."""
from __future__ import annotations

from typing import Any

from nas_core.shapes import sym_apply


def ntuple(v: Any, n: int) -> tuple:
    """``v`` as an n-tuple (ints, Syms or a tuple of them)."""
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * n
        return tuple(v)
    return (v,) * n


def eq(a: Any, b: Any) -> Any:
    """``a == b`` as a bool or a boolean Sym."""
    return sym_apply(lambda x, y: x == y, a, b)


def prod(values: Any) -> Any:
    out: Any = 1
    for v in values:
        out = out * v
    return out

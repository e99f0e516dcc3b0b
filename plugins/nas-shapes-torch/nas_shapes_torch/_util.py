"""Small helpers shared by the formulas of this pack."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from nas_core.shapes import Sym, numel, sym_apply


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


def is_tensor(v: Any) -> bool:
    """True for what formulas see of a tensor (a SymTensor)."""
    return hasattr(v, "shape") and hasattr(v, "cond")


def shape_of(v: Any) -> tuple:
    """The shape of a SymTensor, or () for a Python scalar."""
    return tuple(v.shape) if is_tensor(v) else ()


def bind(names: Sequence[str], defaults: dict[str, Any], args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Map a call's positional and keyword arguments onto ``names`` (with ``defaults``)."""
    out = dict(defaults)
    for n, a in zip(names, args):
        out[n] = a
    for k, v in kwargs.items():
        out[k] = v
    return out


def signature_binder(fn: Callable[..., Any]) -> Callable[[tuple, dict], dict[str, Any]]:
    """A binder for calls of ``fn``, from its Python signature (for torch.nn.functional)."""
    sig = inspect.signature(fn)
    names = [p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    defaults = {p.name: p.default for p in sig.parameters.values() if p.default is not inspect.Parameter.empty}
    return lambda args, kwargs: bind(names, defaults, args, kwargs)


def norm_dim(d: int, nd: int) -> int:
    """A possibly negative dimension index as a non-negative one."""
    if not isinstance(d, int):
        raise TypeError(f"dimension {d!r} must be a plain int in a traced call")
    return d % nd if nd else 0


def total(shape: Sequence[Any]) -> Any:
    return numel(tuple(shape))


def unwrap(v: Any) -> Any:
    """An int argument that may have been a traced size (TracedInt): its symbolic value."""
    s = getattr(v, "sym", None)
    return s if isinstance(s, Sym) else v

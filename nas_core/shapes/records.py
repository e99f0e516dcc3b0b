"""What a dry run records: symbolic tensors and ints, ops, module calls, shape checks.

:class:`SymTensor` is what a formula sees of a tensor; :class:`TracedInt` is an int read from
a traced shape that remembers its symbolic value. :class:`ShapeTrace` is the result of
:func:`nas_core.shapes.trace`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
from torch import nn

from nas_core.errors import ArchitectureError
from nas_core.space.search_space import SearchSpace
from nas_core.shapes.formulas import target_name
from nas_core.shapes.sym import evaluate_sym, labels_of, sym_apply

__all__ = ["SymTensor", "TracedInt", "TracedSize", "Check", "OpRecord", "ModuleCall", "ShapeTrace", "validity_error"]


@dataclass
class SymTensor:
    """What a formula sees of a tensor: its symbolic shape, dtype, and presence condition."""

    shape: tuple
    dtype: torch.dtype = torch.float32
    cond: Any = True  # True, or a boolean Sym: the tensor exists only when it holds

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return len(self.shape)

    def size(self, d: int | None = None) -> Any:
        return self.shape if d is None else self.shape[d]

    def __repr__(self) -> str:
        return f"SymTensor({list(self.shape)})"


class TracedInt(int):
    """An int read from a traced tensor's shape that remembers its symbolic value."""

    sym: Any

    def __new__(cls, value: int, s: Any) -> "TracedInt":
        obj = int.__new__(cls, value)
        obj.sym = s
        return obj

    def _op(self, other: Any, fn: Callable, rev: bool = False) -> Any:
        ov = int(other) if isinstance(other, int) else other
        value = fn(ov, int(self)) if rev else fn(int(self), ov)
        osym = other.sym if isinstance(other, TracedInt) else other
        s = sym_apply(fn, osym, self.sym) if rev else sym_apply(fn, self.sym, osym)
        return TracedInt(value, s) if isinstance(value, int) and not isinstance(value, bool) else value

    def __add__(self, o): return self._op(o, lambda a, b: a + b)
    def __radd__(self, o): return self._op(o, lambda a, b: a + b, True)
    def __sub__(self, o): return self._op(o, lambda a, b: a - b)
    def __rsub__(self, o): return self._op(o, lambda a, b: a - b, True)
    def __mul__(self, o): return self._op(o, lambda a, b: a * b)
    def __rmul__(self, o): return self._op(o, lambda a, b: a * b, True)
    def __floordiv__(self, o): return self._op(o, lambda a, b: a // b)
    def __rfloordiv__(self, o): return self._op(o, lambda a, b: a // b, True)
    def __mod__(self, o): return self._op(o, lambda a, b: a % b)


class TracedSize(tuple):
    """A torch.Size stand-in whose entries are TracedInts."""

    def numel(self) -> int:
        out = 1
        for v in self:
            out = out * v
        return out


@dataclass
class Check:
    """A condition a valid sample must meet at one op (checked only when the op runs)."""

    path: str
    target: str
    valid: Any  # bool or boolean Sym
    message: Any  # str, or a function of the sample returning str
    cond: Any = True

    def text(self, sample: Mapping[str, object]) -> str:
        return self.message(sample) if callable(self.message) else str(self.message)


@dataclass
class OpRecord:
    """One recorded module or function call."""

    path: str
    kind: str  # "module" or "function"
    target: Any
    formula: Any
    inputs: list
    output: Any
    cond: Any
    costs: dict[str, Any] = field(default_factory=dict)
    leaf: bool = False
    unknown: bool = False  # no formula: shape taken from the dry run
    #: the SymTensor objects of the op's tensor outputs (the same objects later ops see as inputs),
    #: so the trace doubles as a data-flow graph
    outputs: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return type(self.target).__name__ if self.kind == "module" else target_name(self.target)

    def labels(self) -> frozenset[str]:
        return labels_of(self.cond, self.costs)


@dataclass
class ModuleCall:
    """One call of any module (containers and candidates included), with symbolic inputs/outputs."""

    path: str
    module: nn.Module
    inputs: list  # SymTensor (or plain values) per positional argument
    output: Any = None  # SymTensor, or nested tuple/list of them
    cond: Any = True  # the call happens in the frozen model when this holds

    def input_shapes(self, sample: Mapping[str, object]) -> list:
        return [tuple(evaluate_sym(i.shape, sample)) if isinstance(i, SymTensor) else i for i in self.inputs]


@dataclass
class ShapeTrace:
    """The result of :func:`trace`: recorded ops, shape checks, and every module call."""

    space: SearchSpace
    ops: list[OpRecord]
    checks: list[Check]
    output: Any
    calls: list[ModuleCall] = field(default_factory=list)

    def calls_of(self, module: nn.Module) -> list[ModuleCall]:
        """Every recorded call of ``module`` (e.g. a LayerChoice candidate) in call order."""
        return [c for c in self.calls if c.module is module]

    def find(self, path: str) -> list[OpRecord]:
        """Ops recorded at a module path."""
        return [o for o in self.ops if o.path == path]

    def shapes_of(self, path: str, sample: Mapping[str, object]) -> list[tuple[list, Any]]:
        """(input shapes, output shape) of the op(s) at ``path`` that run under ``sample``."""
        out = []
        for op in self.find(path):
            if evaluate_sym(op.cond, sample):
                out.append(([evaluate_sym(i.shape, sample) if isinstance(i, SymTensor) else i for i in op.inputs],
                            evaluate_sym(op.output, sample)))
        return out

    def unknown_ops(self) -> list[OpRecord]:
        return [o for o in self.ops if o.unknown]


def validity_error(trace_: ShapeTrace, sample: Mapping[str, object]) -> ArchitectureError | None:
    """The first failed check for ``sample`` as an ArchitectureError, or None if all pass."""
    for c in trace_.checks:
        if evaluate_sym(c.cond, sample) and not evaluate_sym(c.valid, sample):
            return ArchitectureError(
                f"sample {dict(sample)} does not make a working network: at {c.path!r} ({c.target}): {c.text(sample)}. "
                "Change the candidates so the shapes fit, or exclude this sample (e.g. with a Filter)."
            )
    return None

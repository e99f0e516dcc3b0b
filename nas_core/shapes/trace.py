"""One dry run of a model space that records every op with symbolic shapes and costs.

The space runs once on the dummy input. Every LayerChoice candidate, Repeat block,
InputChoice subset and Parametrized variant is run, each under the condition that the
sample selects it. Modules with a formula are recorded whole (their inside is not
opened); other modules are opened and the torch functions they call are recorded through
function formulas. The result lists each op with its path, symbolic input/output shapes,
the condition under which it runs in the frozen model, and its symbolic costs.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nas_core.errors import ArchitectureError, ShapeInferenceError, SpaceDefinitionError
from nas_core.interfaces.shape_formula import COST_KINDS
from nas_core.nn.layers import MutableLayer, Parametrized, hparam
from nas_core.space.expr import ValueChoice, ValueExpr
from nas_core.space.input_choice import InputChoice, reduce_inputs
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.model_space import search_space
from nas_core.space.mutable import MutableModule
from nas_core.space.repeat import Repeat
from nas_core.space.search_space import SearchSpace
from nas_core.shapes.formulas import FormulaTable, formula_table, target_name
from nas_core.shapes.sym import Cond, Sym, all_of, any_of, case, evaluate_sym, labels_of, sym, sym_apply

__all__ = ["SymTensor", "OpRecord", "ModuleCall", "Check", "ShapeTrace", "trace", "hp", "require", "TracedInt"]


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


class _TracedSize(tuple):
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

    def text(self, sample: Mapping[str, Any]) -> str:
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

    def input_shapes(self, sample: Mapping[str, Any]) -> list:
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

    def shapes_of(self, path: str, sample: Mapping[str, Any]) -> list[tuple[list, Any]]:
        """(input shapes, output shape) of the op(s) at ``path`` that run under ``sample``."""
        out = []
        for op in self.find(path):
            if evaluate_sym(op.cond, sample):
                out.append(([evaluate_sym(i.shape, sample) if isinstance(i, SymTensor) else i for i in op.inputs],
                            evaluate_sym(op.output, sample)))
        return out

    def unknown_ops(self) -> list[OpRecord]:
        return [o for o in self.ops if o.unknown]


_current: list["_Tracer"] = []


def hp(module: nn.Module, name: str) -> Any:
    """A module hyper-parameter for formulas: an int/tuple, or a Sym if it follows a choice."""
    return sym(hparam(module, name))


def require(valid: Any, message: str) -> None:
    """Inside a formula: record that a valid sample must satisfy ``valid`` (bool or Sym)."""
    if not _current:
        if valid is False:
            raise ShapeInferenceError(message)
        return
    _current[-1].add_check(valid, message)


def _tensors(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensors(v)]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    return []


_SIZE_FUNCS = {"size", "__get__", "dim", "numel", "ndimension", "nelement"}


class _Tracer(TorchFunctionMode):
    def __init__(self, model: nn.Module, table: FormulaTable) -> None:
        super().__init__()
        self.model = model
        self.table = table
        self.names = {}
        for name, m in model.named_modules(remove_duplicate=False):
            self.names.setdefault(id(m), name or "<root>")
        self.syms: dict[int, SymTensor] = {}
        self.keep: list[Any] = []
        self.conds: list[Any] = []
        self.leaf_depth = 0
        self.stack: list[tuple[nn.Module, bool]] = []
        self.ops: list[OpRecord] = []
        self.checks: list[Check] = []
        self.paths_seen: dict[str, int] = {}
        self._op_for_checks: OpRecord | None = None
        self.space = search_space(model)
        self.eval_sample: dict[str, Any] = self.space.current()
        self._folded: dict[int, Any] = {}
        self.calls: list[ModuleCall] = []

    # -- helpers ------------------------------------------------------------------------
    def context_cond(self) -> Any:
        return all_of(*self.conds)

    @contextlib.contextmanager
    def condition(self, cond: Any) -> Iterator[None]:
        self.conds.append(cond)
        try:
            yield
        finally:
            self.conds.pop()

    @contextlib.contextmanager
    def branch(self, values: Mapping[str, Any]) -> Iterator[None]:
        """Evaluate shapes with ``values`` for these labels while tracing one branch."""
        old = {k: self.eval_sample[k] for k in values}
        self.eval_sample.update(values)
        try:
            yield
        finally:
            self.eval_sample.update(old)

    def sym_of(self, t: torch.Tensor) -> SymTensor:
        s = self.syms.get(id(t))
        if s is None:
            s = SymTensor(tuple(int(d) for d in t.shape), t.dtype, True)
            self.set_sym(t, s)
        return s

    def fresh(self, t: Any) -> Any:
        """A new tensor object viewing ``t`` (not recorded), so it can carry its own sym."""
        if isinstance(t, torch.Tensor):
            if id(t) not in self.syms:
                return t
            self.leaf_depth += 1
            try:
                return t.view_as(t)
            finally:
                self.leaf_depth -= 1
        if isinstance(t, tuple):
            return tuple(self.fresh(v) for v in t)
        if isinstance(t, list):
            return [self.fresh(v) for v in t]
        return t

    def fold(self, v: Any) -> Any:
        """``v`` simplified: a Sym constant over its labels' domains becomes that constant, and
        one over a small domain becomes a table lookup (so expressions stay shallow and
        depend only on the labels that really change them)."""
        if not isinstance(v, Sym) or isinstance(v, Cond):
            return v
        hit = self._folded.get(id(v))
        if hit is not None and hit[0] is v:
            return hit[1]
        out = _fold_sym(v, self.space)
        self._folded[id(v)] = (v, out)
        return out

    def fold_cond(self, c: Any) -> Any:
        """A presence condition with its opaque parts folded (True when they always hold)."""
        if isinstance(c, Cond):
            if not c.extra:
                return c
            extras = [self.fold(e) if not isinstance(e, Cond) else e for e in c.extra]
            return all_of(Cond(c.atoms), *extras)
        return self.fold(c)

    def set_sym(self, t: torch.Tensor, s: SymTensor) -> None:
        if any(isinstance(d, Sym) for d in s.shape) or isinstance(s.cond, Sym):
            s = SymTensor(tuple(self.fold(d) for d in s.shape), s.dtype, self.fold_cond(s.cond))
        self.syms[id(t)] = s
        self.keep.append(t)

    def symify(self, obj: Any) -> Any:
        if isinstance(obj, torch.Tensor):
            return self.sym_of(obj)
        if isinstance(obj, TracedInt):
            return obj.sym
        if isinstance(obj, tuple):
            return tuple(self.symify(v) for v in obj)
        if isinstance(obj, list):
            return [self.symify(v) for v in obj]
        if isinstance(obj, dict):
            return {k: self.symify(v) for k, v in obj.items()}
        return obj

    def module_path(self) -> str:
        for module, _ in reversed(self.stack):
            return self.names.get(id(module), "?")
        return "<root>"

    def unique_path(self, path: str) -> str:
        n = self.paths_seen.get(path, 0) + 1
        self.paths_seen[path] = n
        return path if n == 1 else f"{path}#{n}"

    def add_check(self, valid: Any, message: str) -> None:
        op = self._op_for_checks
        path, target = (op.path, op.name) if op else (self.module_path(), "?")
        cond = op.cond if op else self.context_cond()
        valid = self.fold(valid)
        if valid is True:
            return
        self.checks.append(Check(path, target, valid, message, cond))

    def attach(self, real: Any, shape: Any, cond: Any) -> None:
        """Give real output tensors their symbolic shapes (matching nested structure)."""
        if isinstance(real, torch.Tensor):
            if id(real) in self.syms:
                return  # an input returned as is (identity, in-place op): its shape cannot have changed
            if isinstance(shape, SymTensor):
                shape = shape.shape
            if not isinstance(shape, (tuple, list)):
                raise ShapeInferenceError(f"formula returned {shape!r} for a tensor output; expected a shape tuple.")
            if len(shape) != real.dim():
                raise ShapeInferenceError(
                    f"formula at {self.module_path()!r} returned a {len(shape)}-d shape {list(shape)} for a "
                    f"{real.dim()}-d output {list(real.shape)}; the formula is wrong for this call."
                )
            self.set_sym(real, SymTensor(tuple(shape), real.dtype, cond))
            return
        if isinstance(real, (list, tuple)) and isinstance(shape, (list, tuple)) and len(real) == len(shape):
            if real and all(isinstance(r, torch.Tensor) for r in real) and shape and not isinstance(shape[0], (tuple, list, SymTensor)):
                if len(real) == 1:
                    self.attach(real[0], shape, cond)
                    return
            for r, s in zip(real, shape):
                self.attach(r, s, cond)
            return
        if isinstance(real, (list, tuple)) and _tensors(real) and isinstance(shape, (tuple, list)):
            raise ShapeInferenceError(
                f"formula output structure {shape!r} does not match the op's output at {self.module_path()!r}."
            )

    def record(self, path: str, kind: str, target: Any, formula: Any, args: tuple, kwargs: dict, real_out: Any,
               leaf: bool = False) -> Any:
        sargs = self.symify(args)
        skw = self.symify(kwargs)
        in_conds = [a.cond for a in _flat_sym_tensors(sargs) + _flat_sym_tensors(skw)]
        ctx = self.context_cond()
        presence = getattr(formula, "presence", "all") if formula is not None else "all"
        cond = all_of(ctx, *in_conds)
        out_presence = all_of(ctx, any_of(*in_conds)) if presence == "any" and in_conds else cond
        op = OpRecord(self.unique_path(path), kind, target, formula, list(_flat_sym_tensors(sargs)) or list(sargs),
                      None, cond, {}, leaf)
        self._op_for_checks = op
        try:
            if formula is None:
                if labels_of(sargs, skw, [(a.shape, a.cond) for a in _flat_sym_tensors(sargs) + _flat_sym_tensors(skw)]):
                    raise ShapeInferenceError(self._no_formula_message(op, kind, target, choice_dependent=True))
                op.unknown = True
                out_shape = _real_shapes(real_out)
            else:
                try:
                    out_shape = formula.infer(target, *sargs, **skw)
                except (ShapeInferenceError, SpaceDefinitionError):
                    raise
                except Exception as err:  # noqa: BLE001
                    raise ShapeInferenceError(
                        f"shape formula {formula!r} failed at {op.path!r} ({op.name}) on inputs {sargs!r}: "
                        f"{type(err).__name__}: {err}"
                    ) from err
                op.costs = self.costs_of(op, formula, target, out_shape, sargs, skw)
        finally:
            self._op_for_checks = None
        op.output = out_shape
        self.ops.append(op)
        if real_out is None:
            real_out = self.materialize(out_shape, args)
        self.attach(real_out, out_shape, out_presence)
        op.outputs = [self.sym_of(t) for t in _tensors(real_out)]
        return real_out

    def costs_of(self, op: "OpRecord", formula: Any, target: Any, out_shape: Any, sargs: tuple,
                 skw: dict) -> dict[str, Any]:
        """``formula.costs(...)``, checked: unknown cost kinds and a raising costs function name the formula."""
        where = f"cost formula {formula!r} (registered by {self.table.source_of(formula)}) at {op.path!r} ({op.name})"
        try:
            costs = dict(formula.costs(target, out_shape, *sargs, **skw))
        except (ShapeInferenceError, SpaceDefinitionError):
            raise
        except Exception as err:  # noqa: BLE001
            raise ShapeInferenceError(
                f"{where} raised {type(err).__name__}: {err}. The dry run itself succeeded; fix the costs "
                "function of that formula (or its pack)."
            ) from err
        unknown = sorted(k for k in costs if k not in COST_KINDS)
        if unknown:
            raise ShapeInferenceError(
                f"{where} returned unknown cost kind(s) {unknown}; the known kinds are {list(COST_KINDS)}. "
                "A misspelled kind would otherwise be counted as 0."
            )
        return costs

    def materialize(self, shape: Any, args: tuple) -> Any:
        """Empty tensors of ``shape`` (evaluated for the branch being traced), like the first input."""
        like = next(iter(_tensors(args)), None)
        device = like.device if like is not None else torch.device("cpu")
        dtype = like.dtype if like is not None and like.is_floating_point() else torch.float32

        def build(sh: Any) -> Any:
            if sh is None:
                return None
            if isinstance(sh, SymTensor):
                sh = sh.shape
            if isinstance(sh, tuple) and all(not isinstance(v, (tuple, list, SymTensor)) and v is not None for v in sh):
                dims = [int(evaluate_sym(v, self.eval_sample)) for v in sh]
                with torch._C.DisableTorchFunction():
                    return torch.empty(dims, dtype=dtype, device=device)
            return type(sh)(build(v) for v in sh)

        return build(shape)

    def rematerialize(self, obj: Any, labels: list[str]) -> Any:
        """Inputs whose shape depends on ``labels``, re-made at the branch's values (same symbolic shape).

        A branch (a Parametrized variant, a LayerChoice candidate) runs for real with the
        label values of that branch; an input made for other values would not fit it.
        """
        if isinstance(obj, torch.Tensor):
            s = self.syms.get(id(obj))
            if s is None or not (labels_of(s.shape) & set(labels)):
                return obj
            dims = [int(evaluate_sym(v, self.eval_sample)) for v in s.shape]
            if list(obj.shape) == dims:
                return obj
            with torch._C.DisableTorchFunction():
                new = torch.empty(dims, dtype=obj.dtype, device=obj.device)
            self.set_sym(new, s)
            return new
        if isinstance(obj, tuple):
            return tuple(self.rematerialize(v, labels) for v in obj)
        if isinstance(obj, list):
            return [self.rematerialize(v, labels) for v in obj]
        if isinstance(obj, dict):
            return {k: self.rematerialize(v, labels) for k, v in obj.items()}
        return obj

    def formula_forward(self, module: nn.Module, formula: Any, is_leaf: bool, *args: Any, **kwargs: Any) -> Any:
        """Forward of a module with a formula: record it and return empty outputs of its shape."""
        return self.record(self.names.get(id(module), "?"), "module", module, formula, args, kwargs, None, leaf=is_leaf)

    def _no_formula_message(self, op: OpRecord, kind: str, target: Any, choice_dependent: bool) -> str:
        if kind == "module":
            what = f"module {op.path!r} of type {type(target).__module__}.{type(target).__qualname__}"
        else:
            owner = self.stack[-1][0] if self.stack else self.model
            what = (f"torch function {target_name(target)!r} called in module {self.module_path()!r} of type "
                    f"{type(owner).__module__}.{type(owner).__qualname__}")
        return (
            f"no shape formula for {what}, and its input shape depends on the sample. Two ways out: "
            "register a formula with nas_core.shapes.register_formula(target, shape_fn, costs=cost_fn) "
            "(or install a formula pack such as nas-shapes-torch), or declare the enclosing module a leaf "
            "with @nas_core.shapes.leaf(shape=..., costs=...) so it is costed as a whole."
        )

    # -- module hooks -------------------------------------------------------------------
    def pre_hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        inputs = self.symify(list(args))
        conds = [i.cond for i in inputs if isinstance(i, SymTensor)]
        call = ModuleCall(self.names.get(id(module), "?"), module, inputs, None, all_of(self.context_cond(), *conds))
        self.calls.append(call)
        self.stack.append((module, call))
        return None

    def post_hook(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        _, call = self.stack.pop()
        call.output = self.symify(output)
        return None

    # -- torch functions ----------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.leaf_depth > 0:
            return out
        name = getattr(func, "__name__", "")
        if name in _SIZE_FUNCS and args and isinstance(args[0], torch.Tensor):
            return self._traced_size(name, args, kwargs, out)
        if not _tensors(out):
            return out
        formula = self.table.for_function(func)
        self.record(f"{self.module_path()}/{name or target_name(func)}", "function", func, formula, args, kwargs, out)
        return out

    def _traced_size(self, name: str, args: tuple, kwargs: dict, out: Any) -> Any:
        s = self.sym_of(args[0]).shape
        if name == "__get__" and isinstance(out, torch.Size):
            return _TracedSize(TracedInt(int(v), d) if isinstance(d, Sym) else int(v) for v, d in zip(out, s))
        if name == "size":
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            if dim is None:
                return _TracedSize(TracedInt(int(v), d) if isinstance(d, Sym) else int(v) for v, d in zip(out, s))
            d = s[dim]
            return TracedInt(int(out), d) if isinstance(d, Sym) else out
        if name in ("numel", "nelement"):
            from nas_core.shapes.sym import numel

            n = numel(s)
            return TracedInt(int(out), n) if isinstance(n, Sym) else out
        return out

    # -- mutable modules ----------------------------------------------------------------
    def trace_layer_choice(self, lc: LayerChoice, *args: Any, **kwargs: Any) -> Any:
        label = lc.label
        outs: dict[Any, Any] = {}
        for key in lc.domain:
            with self.condition(Cond.atom(label, [key])), self.branch({label: key}):
                a, k = self.rematerialize(args, [label]), self.rematerialize(kwargs, [label])
                outs[key] = lc.candidate(key)(*a, **k)
        return self.merge(outs, [label], lambda key: (key,), lc.current)

    def merge(self, outs: dict[Any, Any], labels: list[str], to_case_key: Callable[[Any], tuple], current: Any) -> Any:
        """Combine alternative outputs (one per branch key) into the real current one with a Case sym."""
        real = outs[_hkey(current)] if _hkey(current) in outs else outs[current]
        real = self.fresh(real)
        branches = {to_case_key(k): v for k, v in outs.items()}
        self._merge_into(real, branches, labels, path=())
        return real

    def _merge_into(self, real: Any, branches: dict[tuple, Any], labels: list[str], path: tuple) -> None:
        if isinstance(real, torch.Tensor):
            alts = {}
            for key, out in branches.items():
                t = _at(out, path)
                if not isinstance(t, torch.Tensor):
                    raise ShapeInferenceError(f"choice {labels} candidates return different output structures.")
                alts[key] = self.sym_of(t)
            ndims = {len(a.shape) for a in alts.values()}
            if len(ndims) != 1:
                raise ShapeInferenceError(
                    f"the candidates of choice {labels} return tensors with different numbers of dimensions "
                    f"({sorted(ndims)}); candidates must agree on the rank of their output."
                )
            nd = ndims.pop()
            shape = tuple(case(labels, {k: a.shape[i] for k, a in alts.items()}, desc="dim") for i in range(nd))
            cond = case(labels, {k: a.cond for k, a in alts.items()}, desc="present")
            self.set_sym(real, SymTensor(shape, real.dtype, all_of(self.context_cond(), cond)))
        elif isinstance(real, (list, tuple)):
            for i, r in enumerate(real):
                self._merge_into(r, branches, labels, path + (i,))
        elif isinstance(real, dict):
            for k, r in real.items():
                self._merge_into(r, branches, labels, path + (k,))

    def trace_input_choice(self, ic: InputChoice, inputs: Any) -> Any:
        inputs = list(inputs)
        if len(inputs) != ic.n_candidates:
            raise ValueError(f"InputChoice {ic.label!r} expects {ic.n_candidates} inputs, got {len(inputs)}.")
        label = ic.label
        syms = [self.sym_of(t) if isinstance(t, torch.Tensor) else None for t in inputs]
        outs: dict[tuple, Any] = {}
        real_by_key: dict[tuple, Any] = {}
        for subset in ic.domain:
            key = (tuple(subset),)
            if not subset:
                continue
            chosen = [inputs[i] for i in subset]
            real_by_key[key] = reduce_inputs(chosen, ic.reduction)
            outs[key] = [syms[i] for i in subset]
        if not real_by_key:
            return None
        current = tuple(ic.current) if ic.current else next(iter(real_by_key))[0]
        real = real_by_key.get((current,), next(iter(real_by_key.values())))
        if not isinstance(real, torch.Tensor):
            return real
        real = self.fresh(real)
        shapes: dict[tuple, Any] = {}
        conds: dict[tuple, Any] = {}
        elementwise: dict[tuple, Any] = {}
        from nas_core.shapes.sym import numel

        for subset in ic.domain:
            key = (tuple(subset),)
            if not subset:
                conds[key] = False
                shapes[key] = None
                elementwise[key] = 0
                continue
            chosen = outs[key]
            if ic.reduction == "concat":
                base = list(chosen[0].shape)
                base[1] = sum_syms([c.shape[1] for c in chosen])
                shapes[key] = tuple(base)
            else:
                shapes[key] = chosen[0].shape
            n_ops = len(subset) - 1 + (1 if ic.reduction == "mean" and len(subset) > 1 else 0)
            elementwise[key] = numel(chosen[0].shape) * n_ops if ic.reduction in ("sum", "mean") else 0
            conds[key] = all_of(Cond.atom(label, [subset]), *(c.cond for c in chosen))
        nd = real.dim()
        valid_keys = [k for k in shapes if shapes[k] is not None]
        dims = tuple(case([label], {k: (shapes[k][i] if shapes[k] is not None else shapes[valid_keys[0]][i])
                                   for k in shapes}, desc="dim") for i in range(nd))
        present = all_of(self.context_cond(), case([label], conds, desc="present"))
        path = self.unique_path(self.names.get(id(ic), "?"))
        cost = case([label], elementwise, desc="elementwise")
        self.ops.append(OpRecord(path, "module", ic, None, [s for s in syms if s is not None], dims, present,
                                 {"elementwise": cost} if isinstance(cost, Sym) or cost != 0 else {}))
        self.set_sym(real, SymTensor(dims, real.dtype, present))
        self.ops[-1].outputs = [self.syms[id(real)]]
        return real

    def trace_repeat(self, rep: Repeat, x: Any) -> Any:
        depth = sym(rep.depth_choice)
        outs = {0: x}
        for j, block in enumerate(rep.blocks):
            with self.condition(_depth_cond(rep, depth, j)):
                x = block(x)
            outs[j + 1] = x
        if not isinstance(depth, Sym):
            return outs[depth]
        possible = sorted(set(_possible_depths(rep)))
        real = outs[rep.depth]
        if not isinstance(real, torch.Tensor):
            return real
        real = self.fresh(real)
        alts = {d: self.sym_of(outs[d]) for d in possible}
        nd = real.dim()
        if any(len(a.shape) != nd for a in alts.values()):
            raise ShapeInferenceError(f"Repeat {sorted(depth.labels)}: blocks change the rank of their input; keep it fixed.")
        dc = rep.depth_choice
        if isinstance(dc, ValueChoice):
            dims = tuple(case([dc.label], {(d,): alts[d].shape[i] for d in possible}, desc="dim") for i in range(nd))
            cond = case([dc.label], {(d,): alts[d].cond for d in possible}, desc="present")
        else:
            dims = tuple(sym_apply(lambda d, *opts, i=i: opts[possible.index(d)], depth,
                                   *[alts[p].shape[i] for p in possible]) for i in range(nd))
            cond = sym_apply(lambda d, *c: c[possible.index(d)], depth, *[alts[p].cond for p in possible])
        self.set_sym(real, SymTensor(dims, real.dtype, all_of(self.context_cond(), cond)))
        return real

    def trace_parametrized(self, pm: Parametrized, *args: Any, **kwargs: Any) -> Any:
        leaves = pm._leaves
        labels = [leaf.label for leaf in leaves]
        outs: dict[tuple, Any] = {}
        import itertools

        for combo in itertools.product(*(leaf.candidates for leaf in leaves)):
            key = tuple(combo)
            cond = all_of(*(Cond.atom(leaf.label, [v]) for leaf, v in zip(leaves, key)))
            with self.condition(cond), self.branch({leaf.label: v for leaf, v in zip(leaves, key)}):
                a, k = self.rematerialize(args, labels), self.rematerialize(kwargs, labels)
                outs[key] = pm.variants[pm._key(combo)](*a, **k)
        current = tuple(leaf.current for leaf in leaves)
        return self.merge(outs, labels, lambda k: k, current)


#: a Sym over labels with at most this many joint values is tabulated (or folded to a constant)
FOLD_LIMIT = 4096


def _fold_sym(v: Sym, space: SearchSpace) -> Any:
    import itertools
    import math

    labels = sorted(v.labels)
    try:
        domains = [space.choices[l].domain for l in labels]
    except KeyError:
        return v
    if math.prod(len(d) for d in domains) > FOLD_LIMIT:
        return v
    table: dict[tuple, Any] = {}
    try:
        for combo in itertools.product(*domains):
            val = v.fn(dict(zip(labels, combo)))
            if isinstance(val, Sym):
                return v
            table[tuple(_hkey(c) for c in combo)] = val
    except Exception:  # noqa: BLE001 - a value undefined for some combination: keep it symbolic
        return v
    values = list(table.values())
    if all(type(x) is type(values[0]) and x == values[0] for x in values):
        return values[0]
    return case(labels, table, desc=v.desc)


def _depth_cond(rep: Repeat, depth: Any, j: int) -> Any:
    """Condition that block ``j`` of a Repeat runs (depth > j)."""
    dc = rep.depth_choice
    if isinstance(dc, ValueChoice):
        return Cond.atom(dc.label, [d for d in dc.candidates if d > j])
    return sym_apply(lambda d: d > j, depth)


def _possible_depths(rep: Repeat) -> list[int]:
    dc = rep.depth_choice
    return dc.possible_values() if isinstance(dc, ValueExpr) else [dc]


def sum_syms(values: list[Any]) -> Any:
    out: Any = 0
    for v in values:
        out = out + v
    return out


def _hkey(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def _at(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _flat_sym_tensors(obj: Any) -> list[SymTensor]:
    if isinstance(obj, SymTensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _flat_sym_tensors(v)]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _flat_sym_tensors(v)]
    return []


def _real_shapes(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return tuple(int(d) for d in obj.shape)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_real_shapes(v) for v in obj) if not isinstance(obj, torch.Size) else tuple(obj)
    return None


def _as_args(dummy_input: Any) -> tuple:
    return dummy_input if isinstance(dummy_input, tuple) else (dummy_input,)


def _to_meta(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return torch.empty_like(obj, device="meta")
    if isinstance(obj, tuple):
        return tuple(_to_meta(v) for v in obj)
    if isinstance(obj, list):
        return [_to_meta(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _to_meta(v) for k, v in obj.items()}
    return obj


def trace(model: nn.Module, dummy_input: Any, table: FormulaTable | None = None, device: str | None = None) -> ShapeTrace:
    """Dry-run ``model`` on ``dummy_input`` and record every op symbolically.

    Modules with a formula are not run: they return empty tensors of the inferred shape,
    so the dry run costs little even for large inputs. With ``device="meta"`` the torch
    functions between them run on the meta device too (weights swapped for meta tensors
    for the duration), falling back to a real run if the model cannot run on meta.

    Raises :class:`~nas_core.errors.ShapeInferenceError` naming the module path and type
    (and the two ways out) when an op without a formula sees a choice-dependent shape.
    """
    space = search_space(model)
    table = table or formula_table()
    tracer = _Tracer(model, table)
    saved_forward, handles = _install(model, tracer)
    own_hooks = {hid: fn for hid, fn in model._forward_pre_hooks.items() if getattr(fn, "_nas_hook", False)}
    for hid in own_hooks:
        del model._forward_pre_hooks[hid]
    was_training = model.training
    model.eval()
    args = _as_args(dummy_input)
    _current.append(tracer)
    try:
        out = None
        if device == "meta":
            try:
                out = _run(model, tracer, _to_meta(args), meta=True)
            except (ShapeInferenceError, SpaceDefinitionError):
                raise
            except Exception:  # noqa: BLE001 - fall back to a real run below
                _uninstall(saved_forward, handles)
                tracer = _Tracer(model, table)
                _current[-1] = tracer
                saved_forward, handles = _install(model, tracer)
                out = None
        if out is None:
            out = _run(model, tracer, args, meta=False)
    except (ShapeInferenceError, SpaceDefinitionError):
        raise
    except Exception as err:
        where = tracer.names.get(id(tracer.stack[-1][0]), "?") if tracer.stack else "<root>"
        raise ShapeInferenceError(
            f"the dry run of the space failed in {where!r} with the default sample {space.default()}: "
            f"{type(err).__name__}: {err}. Shape inference runs the default sample for real; make sure it runs "
            "on the dummy input (check the dummy input's shape)."
        ) from err
    finally:
        _current.pop()
        _uninstall(saved_forward, handles)
        model.train(was_training)
        model._forward_pre_hooks.update(own_hooks)
    out_sym = tracer.symify(out)
    return ShapeTrace(space, tracer.ops, tracer.checks, out_sym, tracer.calls)


def _run(model: nn.Module, tracer: "_Tracer", args: tuple, meta: bool) -> Any:
    for t in _tensors(args):
        tracer.sym_of(t)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if meta:
            state = {k: torch.empty_like(v, device="meta") for k, v in
                     list(model.named_parameters(remove_duplicate=False)) + list(model.named_buffers(remove_duplicate=False))}
            with tracer:
                return torch.func.functional_call(model, state, args, tie_weights=True, strict=False)
        with tracer:
            return nn.Module.__call__(model, *args)


def _tracing_forward(m: nn.Module, tracer: "_Tracer") -> Callable[..., Any] | None:
    """The forward ``m`` runs during the dry run (None: its own)."""
    if isinstance(m, LayerChoice):
        return lambda *a, **k: tracer.trace_layer_choice(m, *a, **k)
    if isinstance(m, InputChoice):
        return lambda inputs: tracer.trace_input_choice(m, inputs)
    if isinstance(m, Repeat):
        return lambda x: tracer.trace_repeat(m, x)
    if isinstance(m, Parametrized):
        return lambda *a, **k: tracer.trace_parametrized(m, *a, **k)
    if isinstance(m, MutableModule) and not isinstance(m, MutableLayer):
        raise ShapeInferenceError(
            f"module {tracer.names.get(id(m))!r} is a custom mutable ({type(m).__name__}) that shape inference "
            "cannot open; register a formula for it with nas_core.shapes.register_formula(..., leaf=True)."
        )
    formula, is_leaf = tracer.table.for_module(m)
    if formula is None:
        return None
    return lambda *a, **k: tracer.formula_forward(m, formula, is_leaf, *a, **k)


def _install(model: nn.Module, tracer: "_Tracer") -> tuple[list[tuple[nn.Module, Any]], list[Any]]:
    """Point every module's forward and hooks at ``tracer``; returns what :func:`_uninstall` undoes."""
    saved_forward: list[tuple[nn.Module, Any]] = []
    handles: list[Any] = []
    try:
        for m in model.modules():
            fwd = _tracing_forward(m, tracer)
            if fwd is not None:
                saved_forward.append((m, m.__dict__.get("forward")))
                m.forward = fwd
            handles.append(m.register_forward_pre_hook(tracer.pre_hook, with_kwargs=True))
            handles.append(m.register_forward_hook(tracer.post_hook, with_kwargs=True))
    except BaseException:
        _uninstall(saved_forward, handles)
        raise
    return saved_forward, handles


def _uninstall(saved_forward: list[tuple[nn.Module, Any]], handles: list[Any]) -> None:
    for h in handles:
        h.remove()
    for m, fwd in saved_forward:
        if fwd is None:
            del m.forward
        else:
            m.forward = fwd


def validity_error(trace_: ShapeTrace, sample: Mapping[str, Any]) -> ArchitectureError | None:
    """The first failed check for ``sample`` as an ArchitectureError, or None if all pass."""
    for c in trace_.checks:
        if evaluate_sym(c.cond, sample) and not evaluate_sym(c.valid, sample):
            return ArchitectureError(
                f"sample {dict(sample)} does not make a working network: at {c.path!r} ({c.target}): {c.text(sample)}. "
                "Change the candidates so the shapes fit, or exclude this sample (e.g. with a Filter)."
            )
    return None

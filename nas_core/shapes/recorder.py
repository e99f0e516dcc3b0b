"""The recorder: intercepts torch calls and module calls during the dry run and records them.

A :class:`Recorder` is a ``TorchFunctionMode``: every torch function the space calls is
recorded with its symbolic inputs and output (through a function formula), and modules with
a formula are recorded whole. It keeps the symbolic shape of every tensor it has seen.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Mapping

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves, tree_map

from nas_core.errors import ShapeInferenceError, SpaceDefinitionError
from nas_core.interfaces.shape_formula import COST_KINDS, ShapeFormula
from nas_core.nn.layers import hparam
from nas_core.space.model_space import search_space
from nas_core.shapes.folding import fold_sym
from nas_core.shapes.formulas import FormulaTable, target_name
from nas_core.shapes.records import Check, ModuleCall, OpRecord, SymTensor, TracedInt, TracedSize
from nas_core.shapes.sym import Cond, Sym, all_of, any_of, evaluate_sym, labels_of, numel, sym

__all__ = ["Recorder", "hp", "require", "tensors", "sym_tensors"]


_current: list["Recorder"] = []  # the recorders of the dry runs in progress (innermost last)


def push(rec: "Recorder") -> None:
    """Make ``rec`` the recorder that :func:`require` reports to."""
    _current.append(rec)


def replace_top(rec: "Recorder") -> None:
    _current[-1] = rec


def pop() -> None:
    _current.pop()


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


def tensors(obj: Any) -> list[torch.Tensor]:
    """The tensors in a nested structure of tuples, lists and dicts."""
    return [t for t in tree_leaves(obj) if isinstance(t, torch.Tensor)]


def sym_tensors(obj: Any) -> list[SymTensor]:
    """The symbolic tensors in a nested structure of tuples, lists and dicts."""
    return [t for t in tree_leaves(obj) if isinstance(t, SymTensor)]


def real_shapes(obj: Any) -> Any:
    """The concrete shapes of the tensors in ``obj`` (same structure; None for non-tensors)."""
    def shape(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            return tuple(int(d) for d in v.shape)
        return tuple(v) if isinstance(v, torch.Size) else None

    return tree_map(shape, obj, is_leaf=lambda v: isinstance(v, torch.Size))


_SIZE_FUNCS = {"size", "__get__", "dim", "numel", "ndimension", "nelement"}


class Recorder(TorchFunctionMode):
    """Records ops, checks and module calls of one dry run (see :func:`nas_core.shapes.trace`)."""

    def __init__(self, model: nn.Module, table: FormulaTable) -> None:
        super().__init__()
        self.model = model
        self.table = table
        self.names: dict[int, str] = {}
        for name, m in model.named_modules(remove_duplicate=False):
            self.names.setdefault(id(m), name or "<root>")
        self.syms: dict[int, SymTensor] = {}
        self.keep: list[Any] = []
        self.conds: list[Any] = []
        self.leaf_depth = 0
        self.stack: list[tuple[nn.Module, ModuleCall]] = []  # the module calls under way, innermost last
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

    def fresh(self, obj: Any) -> Any:
        """New tensor objects viewing those in ``obj`` (not recorded), so they can carry their own syms."""
        def view(t: Any) -> Any:
            if not isinstance(t, torch.Tensor) or id(t) not in self.syms:
                return t
            self.leaf_depth += 1
            try:
                return t.view_as(t)
            finally:
                self.leaf_depth -= 1

        return tree_map(view, obj)

    def fold(self, v: Any) -> Any:
        """``v`` simplified: a Sym constant over its labels' domains becomes that constant, and
        one over a small domain becomes a table lookup (so expressions stay shallow and
        depend only on the labels that really change them)."""
        if not isinstance(v, Sym) or isinstance(v, Cond):
            return v
        hit = self._folded.get(id(v))
        if hit is not None and hit[0] is v:
            return hit[1]
        out = fold_sym(v, self.space)
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
        """``obj`` with tensors replaced by their SymTensors and TracedInts by their symbolic values."""
        def leaf(v: Any) -> Any:
            if isinstance(v, torch.Tensor):
                return self.sym_of(v)
            if isinstance(v, TracedInt):
                return v.sym
            if isinstance(v, TracedSize):
                return tuple(leaf(d) for d in v)
            return v

        return tree_map(leaf, obj)

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
        if isinstance(real, (list, tuple)) and tensors(real) and isinstance(shape, (tuple, list)):
            raise ShapeInferenceError(
                f"formula output structure {shape!r} does not match the op's output at {self.module_path()!r}."
            )

    def record(self, path: str, kind: str, target: object, formula: ShapeFormula | None, args: tuple, kwargs: dict, real_out: Any,
               leaf: bool = False) -> Any:
        sargs = self.symify(args)
        skw = self.symify(kwargs)
        in_conds = [a.cond for a in sym_tensors(sargs) + sym_tensors(skw)]
        ctx = self.context_cond()
        presence = getattr(formula, "presence", "all") if formula is not None else "all"
        cond = all_of(ctx, *in_conds)
        out_presence = all_of(ctx, any_of(*in_conds)) if presence == "any" and in_conds else cond
        op = OpRecord(self.unique_path(path), kind, target, formula, list(sym_tensors(sargs)) or list(sargs),
                      None, cond, {}, leaf)
        self._op_for_checks = op
        try:
            if formula is None:
                if labels_of(sargs, skw, [(a.shape, a.cond) for a in sym_tensors(sargs) + sym_tensors(skw)]):
                    raise ShapeInferenceError(self._no_formula_message(op, kind, target, choice_dependent=True))
                op.unknown = True
                out_shape = real_shapes(real_out)
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
        op.outputs = [self.sym_of(t) for t in tensors(real_out)]
        return real_out

    def costs_of(self, op: "OpRecord", formula: ShapeFormula, target: object, out_shape: Any, sargs: tuple,
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
        like = next(iter(tensors(args)), None)
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
        def remake(t: Any) -> Any:
            if not isinstance(t, torch.Tensor):
                return t
            s = self.syms.get(id(t))
            if s is None or not (labels_of(s.shape) & set(labels)):
                return t
            dims = [int(evaluate_sym(v, self.eval_sample)) for v in s.shape]
            if list(t.shape) == dims:
                return t
            with torch._C.DisableTorchFunction():
                new = torch.empty(dims, dtype=t.dtype, device=t.device)
            self.set_sym(new, s)
            return new

        return tree_map(remake, obj)

    def formula_forward(self, module: nn.Module, formula: ShapeFormula, is_leaf: bool, *args: Any, **kwargs: Any) -> Any:
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
        if not tensors(out):
            return out
        formula = self.table.for_function(func)
        self.record(f"{self.module_path()}/{name or target_name(func)}", "function", func, formula, args, kwargs, out)
        return out

    def _traced_size(self, name: str, args: tuple, kwargs: dict, out: Any) -> Any:
        s = self.sym_of(args[0]).shape
        if name == "__get__" and isinstance(out, torch.Size):
            return TracedSize(TracedInt(int(v), d) if isinstance(d, Sym) else int(v) for v, d in zip(out, s))
        if name == "size":
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            if dim is None:
                return TracedSize(TracedInt(int(v), d) if isinstance(d, Sym) else int(v) for v, d in zip(out, s))
            d = s[dim]
            return TracedInt(int(out), d) if isinstance(d, Sym) else out
        if name in ("numel", "nelement"):
            n = numel(s)
            return TracedInt(int(out), n) if isinstance(n, Sym) else out
        return out


"""Branch tracing of the four mutable kinds: each branch runs under the condition that selects it.

A LayerChoice runs every candidate, a Repeat every block, an InputChoice every subset and a
Parametrized layer every variant; :func:`merge` combines the alternatives' outputs into the
real current output with a shape that depends on the sample.
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable

import torch

from nas_core.errors import ShapeInferenceError
from nas_core.nn.layers import Parametrized
from nas_core.space.expr import ValueChoice, ValueExpr
from nas_core.space.input_choice import InputChoice, reduce_inputs
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.repeat import Repeat
from nas_core.shapes.folding import hkey
from nas_core.shapes.records import OpRecord, SymTensor
from nas_core.shapes.sym import Cond, Sym, all_of, case, numel, sym, sym_apply

if TYPE_CHECKING:
    from nas_core.shapes.recorder import Recorder

__all__ = ["trace_layer_choice", "trace_input_choice", "trace_repeat", "trace_parametrized", "merge",
           "depth_condition", "possible_depths", "sum_syms"]


# -- mutable modules ----------------------------------------------------------------
def trace_layer_choice(tracer: Recorder, lc: LayerChoice, *args: Any, **kwargs: Any) -> Any:
    label = lc.label
    outs: dict[Any, Any] = {}
    for key in lc.domain:
        with tracer.condition(Cond.atom(label, [key])), tracer.branch({label: key}):
            a, k = tracer.rematerialize(args, [label]), tracer.rematerialize(kwargs, [label])
            outs[key] = lc.candidate(key)(*a, **k)
    return merge(tracer, outs, [label], lambda key: (key,), lc.current)

def merge(tracer: Recorder, outs: dict[Any, Any], labels: list[str], to_case_key: Callable[[Any], tuple], current: Any) -> Any:
    """Combine alternative outputs (one per branch key) into the real current one with a Case sym."""
    real = outs[hkey(current)] if hkey(current) in outs else outs[current]
    real = tracer.fresh(real)
    branches = {to_case_key(k): v for k, v in outs.items()}
    _merge_into(tracer, real, branches, labels, path=())
    return real

def _merge_into(tracer: Recorder, real: Any, branches: dict[tuple, Any], labels: list[str], path: tuple) -> None:
    if isinstance(real, torch.Tensor):
        alts = {}
        for key, out in branches.items():
            t = _at(out, path)
            if not isinstance(t, torch.Tensor):
                raise ShapeInferenceError(f"choice {labels} candidates return different output structures.")
            alts[key] = tracer.sym_of(t)
        ndims = {len(a.shape) for a in alts.values()}
        if len(ndims) != 1:
            raise ShapeInferenceError(
                f"the candidates of choice {labels} return tensors with different numbers of dimensions "
                f"({sorted(ndims)}); candidates must agree on the rank of their output."
            )
        nd = ndims.pop()
        shape = tuple(case(labels, {k: a.shape[i] for k, a in alts.items()}, desc="dim") for i in range(nd))
        cond = case(labels, {k: a.cond for k, a in alts.items()}, desc="present")
        tracer.set_sym(real, SymTensor(shape, real.dtype, all_of(tracer.context_cond(), cond)))
    elif isinstance(real, (list, tuple)):
        for i, r in enumerate(real):
            _merge_into(tracer, r, branches, labels, path + (i,))
    elif isinstance(real, dict):
        for k, r in real.items():
            _merge_into(tracer, r, branches, labels, path + (k,))

def trace_input_choice(tracer: Recorder, ic: InputChoice, inputs: Any) -> Any:
    inputs = list(inputs)
    if len(inputs) != ic.n_candidates:
        raise ValueError(f"InputChoice {ic.label!r} expects {ic.n_candidates} inputs, got {len(inputs)}.")
    label = ic.label
    syms = [tracer.sym_of(t) if isinstance(t, torch.Tensor) else None for t in inputs]
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
    real = tracer.fresh(real)
    shapes: dict[tuple, Any] = {}
    conds: dict[tuple, Any] = {}
    elementwise: dict[tuple, Any] = {}
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
    present = all_of(tracer.context_cond(), case([label], conds, desc="present"))
    path = tracer.unique_path(tracer.names.get(id(ic), "?"))
    cost = case([label], elementwise, desc="elementwise")
    tracer.ops.append(OpRecord(path, "module", ic, None, [s for s in syms if s is not None], dims, present,
                             {"elementwise": cost} if isinstance(cost, Sym) or cost != 0 else {}))
    tracer.set_sym(real, SymTensor(dims, real.dtype, present))
    tracer.ops[-1].outputs = [tracer.syms[id(real)]]
    return real

def trace_repeat(tracer: Recorder, rep: Repeat, x: Any) -> Any:
    depth = sym(rep.depth_choice)
    outs = {0: x}
    for j, block in enumerate(rep.blocks):
        with tracer.condition(depth_condition(rep, depth, j)):
            x = block(x)
        outs[j + 1] = x
    if not isinstance(depth, Sym):
        return outs[depth]
    possible = sorted(set(possible_depths(rep)))
    real = outs[rep.depth]
    if not isinstance(real, torch.Tensor):
        return real
    real = tracer.fresh(real)
    alts = {d: tracer.sym_of(outs[d]) for d in possible}
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
    tracer.set_sym(real, SymTensor(dims, real.dtype, all_of(tracer.context_cond(), cond)))
    return real


def trace_parametrized(tracer: Recorder, pm: Parametrized, *args: Any, **kwargs: Any) -> Any:
    leaves = pm.leaves
    labels = [leaf.label for leaf in leaves]
    outs: dict[tuple, Any] = {}
    for combo in itertools.product(*(leaf.candidates for leaf in leaves)):
        key = tuple(combo)
        cond = all_of(*(Cond.atom(leaf.label, [v]) for leaf, v in zip(leaves, key)))
        with tracer.condition(cond), tracer.branch({leaf.label: v for leaf, v in zip(leaves, key)}):
            a, k = tracer.rematerialize(args, labels), tracer.rematerialize(kwargs, labels)
            outs[key] = pm.variant_for(combo)(*a, **k)
    current = tuple(leaf.current for leaf in leaves)
    return merge(tracer, outs, labels, lambda k: k, current)


def depth_condition(rep: Repeat, depth: Any, j: int) -> Any:
    """Condition that block ``j`` of a Repeat runs (depth > j)."""
    dc = rep.depth_choice
    if isinstance(dc, ValueChoice):
        return Cond.atom(dc.label, [d for d in dc.candidates if d > j])
    return sym_apply(lambda d: d > j, depth)


def possible_depths(rep: Repeat) -> list[int]:
    dc = rep.depth_choice
    return dc.possible_values() if isinstance(dc, ValueExpr) else [dc]


def sum_syms(values: list[Any]) -> Any:
    out: Any = 0
    for v in values:
        out = out + v
    return out



def _at(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


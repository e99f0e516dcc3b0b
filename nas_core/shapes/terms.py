"""Turning a shape trace (or a model's structure) into cost terms."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from torch import nn

from nas_core.errors import ProfilerError
from nas_core.nn.layers import MutableLayer, Parametrized
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.model_space import search_space
from nas_core.space.repeat import Repeat
from nas_core.shapes.costmodel import Term
from nas_core.shapes.sym import Cond, Sym, all_of, sym, sym_apply
from nas_core.shapes.branches import depth_condition
from nas_core.shapes.trace import ShapeTrace

__all__ = ["op_cost_terms", "check_terms", "param_terms", "structural_conditions"]


def op_cost_terms(trace: ShapeTrace, kinds: Iterable[str], scale: float = 1.0, on_unknown: str = "error") -> list[Term]:
    """One term per op and cost kind (e.g. ``("macs", "bias")``), scaled by ``scale``.

    Ops recorded without a formula cannot be costed: ``on_unknown="error"`` raises a
    :class:`ProfilerError` naming them, ``"warn"`` emits a named warning and counts them 0.
    """
    kinds = tuple(kinds)
    unknown = trace.unknown_ops()
    if unknown:
        names = sorted({f"{o.name} (at {o.path})" for o in unknown})
        msg = (
            f"no shape/cost formula for {len(names)} op(s): {', '.join(names[:8])}"
            + (" ..." if len(names) > 8 else "")
            + ". Their shapes were taken from the dry run, but their cost is unknown. Register formulas with "
            "nas_core.shapes.register_formula, or install a formula pack (nas-shapes-torch)."
        )
        if on_unknown == "error":
            raise ProfilerError(msg)
        import warnings

        warnings.warn(msg + " They count as 0.", RuntimeWarning, stacklevel=3)
    terms = []
    for op in trace.ops:
        for k in kinds:
            v = op.costs.get(k)
            if v is None or (not isinstance(v, Sym) and v == 0):
                continue
            terms.append(Term(v * scale if scale != 1.0 else v, op.cond, f"{op.path}:{k}"))
    return terms


def check_terms(trace: ShapeTrace) -> list[Term]:
    """Terms that are NaN exactly for the samples that fail a shape check."""
    nan = float("nan")
    return [Term(sym_apply(lambda ok: 0.0 if ok else nan, c.valid), c.cond, f"{c.path}:check") for c in trace.checks
            if c.valid is not True]


def structural_conditions(model: nn.Module) -> dict[int, Any]:
    """For each module (by id), the condition under which it is part of the frozen model."""
    space = search_space(model)
    conds: dict[int, Any] = {}

    def walk(module: nn.Module, cond: Any) -> None:
        if id(module) in conds:
            return
        conds[id(module)] = cond
        if isinstance(module, LayerChoice):
            label = module.label
            for key in module.domain:
                c = all_of(cond, Cond.atom(label, [key]))
                walk(module.candidate(key), c)
            return
        if isinstance(module, Repeat):
            depth = sym(module.depth_choice)
            for j, block in enumerate(module.blocks):
                walk(block, all_of(cond, depth_condition(module, depth, j)))
            return
        if isinstance(module, Parametrized):
            import itertools

            leaves = module.leaves
            for combo in itertools.product(*(leaf.candidates for leaf in leaves)):
                c = all_of(*(Cond.atom(leaf.label, [v]) for leaf, v in zip(leaves, combo)))
                walk(module.variant_for(combo), all_of(cond, c))
            return
        for child in module.children():
            walk(child, cond)

    del space
    walk(model, True)
    return conds


def _own_params(module: nn.Module) -> Any:
    if isinstance(module, MutableLayer) and module.is_mutable():
        params = [(n, p) for n, p in module.named_parameters(recurse=False) if p is not None]
        leaves = module.value_choices()

        def count(sample: Mapping[str, Any]) -> int:
            args = module.current_args(sample)
            return sum(module._slice(n, p, args).numel() for n, p in params)

        from nas_core.shapes.sym import labels_of

        labels = labels_of(*(sym(v) for v in leaves.values()))
        return Sym(labels, count, f"params({type(module).__name__})")
    return sum(p.numel() for p in module.parameters(recurse=False))


def param_terms(model: nn.Module) -> list[Term]:
    """Terms whose sum is ``sum(p.numel() for p in frozen.parameters())`` for every sample."""
    conds = structural_conditions(model)
    names = {id(m): n for n, m in model.named_modules()}
    seen_params: set[int] = set()
    terms = []
    for module in model.modules():
        if id(module) not in conds:
            continue
        own = [p for p in module.parameters(recurse=False)]
        if any(id(p) in seen_params for p in own):
            raise ProfilerError(
                f"module {names.get(id(module))!r} shares parameters with another module; the parameter count "
                "of shared weights is not supported."
            )
        seen_params.update(id(p) for p in own)
        n = _own_params(module)
        if isinstance(n, Sym) or n:
            terms.append(Term(n, conds[id(module)], f"{names.get(id(module))}:params"))
    return terms

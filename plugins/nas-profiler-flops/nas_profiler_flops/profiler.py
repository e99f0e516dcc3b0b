"""FlopsProfiler: the multiply-accumulates (or FLOPs) of every sample, from one shape trace."""
from __future__ import annotations

import warnings
from typing import Any, Mapping

from torch import nn

from nas_core.errors import ProfilerError
from nas_core.shapes import CostModel, CostModelProfiler, Term, check_terms, op_cost_terms, trace
from nas_core.space.model_space import search_space

__all__ = ["FlopsProfiler"]

_UNITS = {"macs": "MACs", "flops": "FLOPs"}


class FlopsProfiler(CostModelProfiler):
    """MACs of a sample, exactly what ``torch.utils.flop_counter.FlopCounterMode`` counts / 2.

    ``FlopsProfiler(model_space, dummy_input)`` dry-runs the space once (shape inference)
    and compiles the per-op costs into lookup tables; ``profile(sample)`` then costs a few
    microseconds. By default it counts multiply-accumulates of convolutions, linear layers,
    matrix products and attention (the convention of NNI, torchvision's table and fvcore).

    Options: ``count_bias``, ``count_norm``, ``count_activation``, ``count_elementwise``
    add one per bias add, normalized element, activation and element-wise op (pooling,
    residual adds, softmax...). ``unit="flops"`` counts 2 per MAC (and 1 per other counted
    op) instead. ``on_unknown="warn"`` turns the error for an op without a formula into a
    named warning (that op counts 0). :attr:`unit` says which unit the numbers are in.
    """

    metric = "flops"

    def __init__(self, model_space: nn.Module, dummy_input: Any, count_bias: bool = False, count_norm: bool = False,
                 count_activation: bool = False, count_elementwise: bool = False, unit: str = "macs",
                 on_unknown: str = "error") -> None:
        key = str(unit).lower()
        if key not in _UNITS:
            raise ProfilerError(f"FlopsProfiler unit must be 'macs' or 'flops', got {unit!r}.")
        if on_unknown not in ("error", "warn"):
            raise ProfilerError(f"FlopsProfiler on_unknown must be 'error' or 'warn', got {on_unknown!r}.")
        if dummy_input is None:
            raise ProfilerError("FlopsProfiler needs a dummy input (a tensor or a tuple of tensors) to infer shapes; "
                                "pass one shaped like a real batch, e.g. torch.randn(1, 3, 224, 224).")
        self.unit = _UNITS[key]
        self.space = search_space(model_space)
        self.trace = trace(model_space, dummy_input)
        kinds = ["macs"] + [k for k, on in (("bias", count_bias), ("norm", count_norm),
                                            ("activation", count_activation), ("elementwise", count_elementwise)) if on]
        self.kinds = tuple(kinds)
        self._warn_costless_leaves()
        terms = op_cost_terms(self.trace, kinds, on_unknown=on_unknown)
        if key == "flops":
            terms = [Term(t.value * 2, t.cond, t.origin) if t.origin.endswith(":macs") else t for t in terms]
        self.terms = terms
        self.cost_model = CostModel(self.space, terms + check_terms(self.trace), unit=self.unit)

    def _warn_costless_leaves(self) -> None:
        names = sorted({f"{op.name} (at {op.path})" for op in self.trace.ops if op.leaf and not op.costs})
        if names:
            warnings.warn(
                f"leaf module(s) {', '.join(names)} declare no costs, so FlopsProfiler counts them 0. Give the leaf "
                "declaration a costs= function if they compute anything.", RuntimeWarning, stacklevel=3)

    def breakdown(self, sample: Mapping[str, Any]) -> dict[str, float]:
        """Cost of ``sample`` per op path (and cost kind), in :attr:`unit`; sums to :meth:`profile`."""
        sample = self.space.validate(sample)
        out: dict[str, float] = {}
        for t in self.terms:
            v = t(sample)
            if v:
                out[t.origin] = out.get(t.origin, 0.0) + v
        return out

    def __repr__(self) -> str:
        return f"FlopsProfiler(unit={self.unit!r}, counts={list(self.kinds)}, {self.cost_model.describe()})"


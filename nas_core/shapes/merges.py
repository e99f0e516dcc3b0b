"""Where a choice's output comes from: the data flow a shape trace records through choices.

A dry run traces every branch of a LayerChoice, Repeat, InputChoice or Parametrized layer;
the output the model goes on with is a *merge*: one of the branch outputs, picked by the
sample. :func:`choice_merges` describes each merge so that a consumer (a kernel-level
latency profiler building the model's data-flow graph, say) can follow a tensor back through
choices to the op that produced it::

    merges = choice_merges(trace)
    m = merges.get(id(tensor))
    if m is not None:
        tensor = m.resolve(sample)     # the branch output this sample uses (None: none)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from torch import nn

from nas_core.nn.layers import Parametrized
from nas_core.shapes.records import ModuleCall, ShapeTrace, SymTensor
from nas_core.space.expr import ValueExpr
from nas_core.space.input_choice import InputChoice
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.repeat import Repeat

__all__ = ["Merge", "choice_merges", "CHOICE_MODULES"]

#: the modules whose output is a merge of traced branches
CHOICE_MODULES = (LayerChoice, Repeat, InputChoice, Parametrized)


@dataclass(frozen=True)
class Merge:
    """The output of one call of a choice module: one of ``alternatives``, picked by the sample.

    ``select(sample)`` gives the key of the alternative the sample uses: a LayerChoice's
    candidate key, a Repeat's depth, an InputChoice's chosen subset (a tuple of input
    indices), or the tuple of a Parametrized layer's leaf values. An alternative is the
    traced tensor (``None`` when that branch gives no single tensor, e.g. an InputChoice
    subset of several inputs or the empty one).
    """

    call: ModuleCall
    labels: frozenset[str]
    select: Callable[[Mapping[str, Any]], Any]
    alternatives: dict[Any, SymTensor | None]

    @property
    def module(self) -> nn.Module:
        return self.call.module

    def resolve(self, sample: Mapping[str, object]) -> SymTensor | None:
        """The traced tensor the choice's output is under ``sample``."""
        return self.alternatives.get(self.select(sample))


def _tensor(value: Any) -> SymTensor | None:
    return value if isinstance(value, SymTensor) else None


def _nth_output(trace: ShapeTrace, module: nn.Module, n: int) -> SymTensor | None:
    """The output of the ``n``-th traced call of ``module`` (a branch runs once per call of its choice)."""
    calls = trace.calls_of(module)
    return _tensor(calls[n].output) if n < len(calls) else None


def choice_merges(trace: ShapeTrace) -> dict[int, Merge]:
    """For every call of a choice module whose output is one tensor: its :class:`Merge`, by ``id`` of the output.

    Calls whose output is not one tensor (a tuple, a list, None) have no entry: read
    ``trace.calls`` for those.
    """
    merges: dict[int, Merge] = {}
    calls_seen: dict[int, int] = {}
    for call in trace.calls:
        module = call.module
        n = calls_seen.get(id(module), 0)
        calls_seen[id(module)] = n + 1
        out = call.output
        if not isinstance(out, SymTensor) or not isinstance(module, CHOICE_MODULES):
            continue
        merge = _merge(trace, call, module, n)
        if merge is not None:
            merges[id(out)] = merge
    return merges


def _merge(trace: ShapeTrace, call: ModuleCall, module: nn.Module, n: int) -> Merge | None:
    if isinstance(module, LayerChoice):
        label = module.require_label()
        alts = {branch.key[0]: _nth_output(trace, branch.module, n) for branch in module.branches()}
        return Merge(call, frozenset([label]), lambda s: s[label], alts)
    if isinstance(module, Repeat):
        depth = module.depth_choice
        if not isinstance(depth, ValueExpr):
            return None  # a fixed depth: no choice
        first = _tensor(call.inputs[0]) if call.inputs else None
        alts = {d: first if d == 0 else _nth_output(trace, module.blocks[d - 1], n) for d in depth.possible_values()}
        return Merge(call, frozenset(depth.labels()), depth.evaluate, alts)
    if isinstance(module, InputChoice):
        label = module.require_label()
        candidates = call.inputs[0] if call.inputs and isinstance(call.inputs[0], (list, tuple)) else call.inputs
        alts = {}
        for subset in module.domain:
            subset = tuple(subset)
            alts[subset] = _tensor(candidates[subset[0]]) if len(subset) == 1 else None
        return Merge(call, frozenset([label]), lambda s: tuple(s[label]) if isinstance(s[label], list) else s[label],
                     alts)
    if isinstance(module, Parametrized):
        labels = [leaf.require_label() for leaf in module.leaves]
        alts = {branch.key: _nth_output(trace, branch.module, n) for branch in module.branches()}
        return Merge(call, frozenset(labels), lambda s: tuple(s[label] for label in labels), alts)
    return None

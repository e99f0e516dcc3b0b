"""Split a model space into measurable units: maximal fixed sub-modules and mutable layers.

Every LayerChoice candidate, Repeat block and fixed part of the network (stem, head...) is
a unit; a mutable layer (a ``nas_core.nn`` layer whose arguments are ValueChoices) is a unit
measured once per value of its own choices. Each recorded call of a unit (from the shape
trace) is measured in its input-shape context; shapes that depend on choices are measured
once per combination of those choices.
"""
from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import nn

from nas_core.errors import ProfilerError
from nas_core.nn.layers import MutableLayer
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.mutable import MutableModule
from nas_core.space.repeat import Repeat
from nas_core.space.search_space import SearchSpace, freeze_tree
from nas_core.shapes import ModuleCall, ShapeTrace, SymTensor, labels_of, sym

__all__ = ["Unit", "find_units", "combos", "frozen_unit", "unit_inputs"]

#: a unit whose input shapes (and own choices) take more combinations than this is an error
MAX_COMBOS = 256


@dataclass
class Unit:
    """One measurable call: ``module`` as called at ``call`` (``index``-th call of ``path``)."""

    path: str
    index: int
    module: nn.Module
    call: ModuleCall
    labels: tuple[str, ...]  # the labels its input shapes or its own structure depend on
    mutable: bool

    @property
    def key(self) -> str:
        return f"{self.path}#{self.index}"


def _contains_mutable(m: nn.Module) -> bool:
    return any(isinstance(x, MutableModule) and not (isinstance(x, MutableLayer) and not x.is_mutable())
               for x in m.modules())


def _own_labels(m: nn.Module) -> frozenset[str]:
    return labels_of(*(sym(v) for v in m.value_choices().values()))


def find_units(model: nn.Module, trace: ShapeTrace, space: SearchSpace) -> list[Unit]:
    """The units of ``model`` in call order of discovery (deterministic for a given space)."""
    names = {}
    for name, mod in model.named_modules(remove_duplicate=False):
        names.setdefault(id(mod), name or "<root>")
    order = {l: i for i, l in enumerate(space.labels)}
    units: list[Unit] = []

    def add(m: nn.Module, mutable: bool) -> None:
        own = _own_labels(m) if mutable else frozenset()
        for i, call in enumerate(trace.calls_of(m)):
            labels = tuple(sorted(labels_of([x.shape for x in call.inputs if isinstance(x, SymTensor)]) | own,
                                  key=lambda l: order.get(l, 1 << 30)))
            units.append(Unit(names.get(id(m), "?"), i, m, call, labels, mutable))

    def walk(m: nn.Module) -> None:
        if not _contains_mutable(m):
            add(m, False)
        elif isinstance(m, MutableLayer):
            add(m, True)
        elif isinstance(m, LayerChoice):
            for key in m.domain:
                walk(m.candidate(key))
        elif isinstance(m, Repeat):
            for block in m.blocks:
                walk(block)
        else:  # containers, InputChoice: their own functions are left to the calibration
            for child in m.children():
                walk(child)

    walk(model)
    return units


def combos(unit: Unit, space: SearchSpace) -> list[tuple]:
    """Every combination of the unit's labels (values in domain order)."""
    domains = [space.choices[l].domain for l in unit.labels]
    n = 1
    for d in domains:
        n *= len(d)
    if n > MAX_COMBOS:
        raise ProfilerError(
            f"unit {unit.path!r} depends on {list(unit.labels)} ({n} combinations, limit {MAX_COMBOS}); the latency "
            "table would be too large. Make its input shape depend on fewer choices, or profile with mode='measure'.")
    return list(itertools.product(*domains))


def combo_key(values: tuple) -> str:
    return json.dumps(list(values), default=str)


def frozen_unit(unit: Unit, sample: dict[str, Any]) -> nn.Module:
    """The plain module the unit runs under ``sample``."""
    if not unit.mutable:
        return unit.module
    return freeze_tree(copy.deepcopy(unit.module), sample)


def unit_inputs(unit: Unit, sample: dict[str, Any], seed: int = 0) -> list[Any]:
    """Seeded inputs of the unit's call under ``sample`` (tensors; non-tensor arguments as they were)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for x in unit.call.inputs:
        if isinstance(x, SymTensor):
            shape = [int(d) for d in unit.call.input_shapes(sample)[len(out)]]
            if x.dtype.is_floating_point:
                out.append(torch.randn(*shape, generator=gen).to(x.dtype))
            else:
                out.append(torch.zeros(*shape, dtype=x.dtype))
        else:
            out.append(x)
    return out


def iter_unit_samples(unit: Unit, space: SearchSpace) -> Iterator[tuple[tuple, dict[str, Any]]]:
    base = space.default()
    for values in combos(unit, space):
        s = dict(base)
        s.update(zip(unit.labels, values))
        yield values, s


class BoundCall(nn.Module):
    """Calls ``module`` with its non-tensor arguments fixed, so only tensors are inputs."""

    def __init__(self, module: nn.Module, args: list[Any]) -> None:
        super().__init__()
        self.inner = module
        self.template = [None if isinstance(a, torch.Tensor) else a for a in args]

    def forward(self, *tensors: torch.Tensor) -> Any:
        it = iter(tensors)
        return self.inner(*[next(it) if a is None else a for a in self.template])


def measurable(unit: Unit, sample: dict[str, Any], seed: int = 0) -> tuple[nn.Module, list[torch.Tensor]]:
    """The module and tensor inputs to measure for ``unit`` under ``sample``."""
    module = frozen_unit(unit, sample).eval()
    args = unit_inputs(unit, sample, seed)
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if len(tensors) != len(args):
        module = BoundCall(module, args)
    return module, tensors

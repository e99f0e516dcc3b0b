"""Which labels a sample leaves unused, and the one canonical sample of each architecture.

Two samples that differ only in labels the network never reads build the same network:
the blocks a :class:`~nas_core.space.Repeat` depth leaves out, the candidates a
:class:`~nas_core.space.LayerChoice` does not choose (and every choice nested inside them,
InputChoices included), the variants of a ``Parametrized`` layer that do not run. Such
labels are *inactive* under that sample. The *canonical* sample sets every inactive label
to its default, so equivalent samples share one canonical form and one key.

A space may add equivalences the framework cannot see (two ops that compute the same
function, isomorphic cell graphs): the model defines ``canonical_sample(self, sample)``
returning an equivalent sample, which is applied after the inactive labels are reset.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Mapping

from torch import nn

from nas_core.errors import InvalidSampleError
from nas_core.space.mutable import MutableModule

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["active_labels", "has_conditional_labels", "canonical_sample"]


def _labels_of(module: MutableModule) -> list[str]:
    from nas_core.space.expr import leaf_choices

    labels = [d.require_label() for d in module.module_decisions()]
    for value in module.value_choices().values():
        labels.extend(leaf.require_label() for leaf in leaf_choices(value))
    return labels


def _running_children(module: nn.Module, sample: Mapping[str, Any]) -> list[nn.Module]:
    """The children of ``module`` that run under ``sample``."""
    if isinstance(module, MutableModule):
        active = module.active_children(sample)
        if active is not None:
            return active
    return list(module.children())


def active_labels(model: nn.Module, sample: Mapping[str, object]) -> set[str]:
    """Labels read by the parts of ``model`` that run under ``sample`` (a validated sample)."""
    active: set[str] = set()
    stack: list[nn.Module] = [model]
    visited: set[int] = set()
    while stack:
        m = stack.pop()
        if id(m) in visited:
            continue
        visited.add(id(m))
        if isinstance(m, MutableModule):
            active.update(label for label in _labels_of(m) if label is not None)
        stack.extend(_running_children(m, sample))
    return active


def has_conditional_labels(model: nn.Module) -> bool:
    """True when some label can be inactive: a decision sits inside a LayerChoice candidate,
    a Repeat block with a variable depth, a Parametrized variant, or a child of a mutable module
    of your own that defines ``active_children``; or the model has its own ``canonical_sample``."""
    from nas_core.nn.layers import Parametrized
    from nas_core.space.expr import ValueExpr
    from nas_core.space.layer_choice import LayerChoice
    from nas_core.space.repeat import Repeat

    if callable(getattr(model, "canonical_sample", None)):
        return True
    for m in model.modules():
        if isinstance(m, LayerChoice):
            inner = [c for c in m.candidates.values() if any(isinstance(x, MutableModule) for x in c.modules())]
        elif isinstance(m, Repeat) and isinstance(m.depth_choice, ValueExpr):
            inner = [b for b in m.blocks if any(isinstance(x, MutableModule) for x in b.modules())]
        elif isinstance(m, Parametrized):
            inner = [v for v in m.variants.values() if any(isinstance(x, MutableModule) for x in v.modules())]
        elif isinstance(m, MutableModule) and type(m).active_children is not MutableModule.active_children:
            # a user's own mutable module that runs some of its children
            inner = [c for c in m.children() if any(isinstance(x, MutableModule) for x in c.modules())]
        else:
            continue
        if inner:
            return True
    return False


def canonical_sample(space: SearchSpace, sample: Mapping[str, object]) -> dict[str, Any]:
    """``sample`` (validated) with every inactive label at its default, then the model's own
    ``canonical_sample`` applied when it has one (its result is validated too)."""
    out = space.validate(sample)
    active = active_labels(space.model, out)
    for label, choice in space.choices.items():
        if label not in active:
            out[label] = copy.deepcopy(choice.default)
    own = getattr(space.model, "canonical_sample", None)
    if callable(own):
        mapped = own(dict(out))
        if not isinstance(mapped, Mapping):
            raise InvalidSampleError(
                f"{type(space.model).__name__}.canonical_sample returned {type(mapped).__name__}, not a sample dict; "
                "it must return an equivalent sample (label -> value) for every sample it is given."
            )
        out = space.validate(mapped)
    return out

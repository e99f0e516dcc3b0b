"""InputChoice: choose which of several tensors flow on, and how they are merged."""
from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping, Sequence

import torch
from torch import nn

from nas_core.errors import SpaceDefinitionError
from nas_core.space.mutable import Decision, MutableModule

__all__ = ["InputChoice", "ChosenInputs", "reduce_inputs"]

REDUCTIONS = ("sum", "mean", "concat", "none")
_MAX_SUBSETS = 1 << 16


def reduce_inputs(tensors: list[Any], reduction: str) -> Any:
    """Merge chosen tensors: ``sum``, ``mean``, ``concat`` (dim 1) or ``none`` (a list)."""
    if not tensors:
        return None
    if reduction == "none":
        return tensors
    if len(tensors) == 1:
        return tensors[0]
    if reduction == "concat":
        return torch.cat(tensors, dim=1)
    out = tensors[0]
    for t in tensors[1:]:
        out = out + t
    if reduction == "mean":
        out = out / len(tensors)
    return out


class ChosenInputs(nn.Module):
    """The frozen form of an :class:`InputChoice`: a plain module selecting fixed inputs."""

    def __init__(self, chosen: Sequence[int], reduction: str = "sum") -> None:
        super().__init__()
        self.chosen = list(chosen)
        self.reduction = reduction

    def forward(self, inputs: Sequence[Any]) -> Any:
        return reduce_inputs([inputs[i] for i in self.chosen], self.reduction)

    def extra_repr(self) -> str:
        return f"chosen={self.chosen}, reduction={self.reduction!r}"


class InputChoice(MutableModule, Decision):
    """Choose ``n_chosen`` of ``n_candidates`` inputs (any number when ``n_chosen`` is None).

    Called with a list of tensors, returns the ``reduction`` of the chosen ones, or
    ``None`` when none is chosen. The sample value is the sorted list of chosen indices.
    ``choose_from`` optionally names the candidates, for architecture files.
    """

    def __init__(
        self,
        n_candidates: int | None = None,
        n_chosen: int | None = None,
        reduction: str = "sum",
        *,
        choose_from: Sequence[str] | None = None,
        label: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__()
        if n_candidates is None:
            if choose_from is None:
                raise SpaceDefinitionError("InputChoice needs n_candidates (or choose_from).")
            n_candidates = len(choose_from)
        if not isinstance(n_candidates, int) or n_candidates < 1:
            raise SpaceDefinitionError(f"InputChoice n_candidates must be a positive int, got {n_candidates!r}.")
        if n_chosen is not None and not (isinstance(n_chosen, int) and 0 <= n_chosen <= n_candidates):
            raise SpaceDefinitionError(
                f"InputChoice n_chosen must be None or an int in [0, {n_candidates}], got {n_chosen!r}."
            )
        if reduction not in REDUCTIONS:
            raise SpaceDefinitionError(f"InputChoice reduction must be one of {REDUCTIONS}, got {reduction!r}.")
        if choose_from is not None and len(choose_from) != n_candidates:
            raise SpaceDefinitionError(
                f"InputChoice choose_from has {len(choose_from)} names but n_candidates is {n_candidates}."
            )
        if label is not None and key is not None and label != key:
            raise SpaceDefinitionError(f"InputChoice got both label={label!r} and key={key!r}; give one.")
        self.n_candidates = n_candidates
        self.n_chosen = n_chosen
        self.reduction = reduction
        self.choose_from = list(choose_from) if choose_from is not None else None
        self.label = label if label is not None else key
        self._domain = self._enumerate()
        self.current: Any = self.default

    def _enumerate(self) -> list[list[int]]:
        n = self.n_candidates
        if self.n_chosen is None:
            if 1 << n > _MAX_SUBSETS:
                raise SpaceDefinitionError(
                    f"InputChoice over {n} candidates with any number chosen has 2**{n} options; "
                    "set n_chosen, or split the choice."
                )
            sizes: Iterable[int] = range(n + 1)
        else:
            sizes = [self.n_chosen]
        return [list(c) for k in sizes for c in itertools.combinations(range(n), k)]

    @property
    def domain(self) -> list[Any]:
        return [list(v) for v in self._domain]

    @property
    def default(self) -> list[int]:
        k = 1 if self.n_chosen is None else self.n_chosen
        return list(range(k))

    def forward(self, inputs: Sequence[Any]) -> Any:
        if len(inputs) != self.n_candidates:
            raise SpaceDefinitionError(
                f"InputChoice {self.label!r} expects {self.n_candidates} inputs, got {len(inputs)}."
            )
        return reduce_inputs([inputs[i] for i in self.current], self.reduction)

    def freeze(self, sample: Mapping[str, Any]) -> nn.Module:
        return ChosenInputs(sample[self.require_label()], self.reduction)

    def module_decisions(self) -> list[Decision]:
        return [self]

    def extra_repr(self) -> str:
        return f"n_candidates={self.n_candidates}, n_chosen={self.n_chosen}, reduction={self.reduction!r}, label={self.label!r}"

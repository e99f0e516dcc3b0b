"""LayerChoice: choose one module among candidates."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, Sequence

from torch import nn

from nas_core.errors import SpaceDefinitionError
from nas_core.space.mutable import Branch, Decision, MutableModule

__all__ = ["LayerChoice"]


class LayerChoice(MutableModule, Decision):
    """Choose one of ``candidates`` (a list, or a dict of name to module).

    The sample value is the candidate's name for a dict, its index for a list. Until a
    sample is frozen, the layer runs its current candidate (the first by default).
    """

    def __init__(
        self,
        candidates: Sequence[nn.Module] | Mapping[str, nn.Module],
        *,
        label: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__()
        if label is not None and key is not None and label != key:
            raise SpaceDefinitionError(f"LayerChoice got both label={label!r} and key={key!r}; give one.")
        if isinstance(candidates, Mapping):
            items = [(str(k), v) for k, v in candidates.items()]
            self.names: list[str] | None = [k for k, _ in items]
        else:
            items = [(str(i), v) for i, v in enumerate(candidates)]
            self.names = None
        if not items:
            raise SpaceDefinitionError("LayerChoice needs at least one candidate; got none.")
        for k, v in items:
            if not isinstance(v, nn.Module):
                raise SpaceDefinitionError(
                    f"LayerChoice candidate {k!r} is a {type(v).__name__}, not an nn.Module."
                )
        self.candidates = nn.ModuleDict(OrderedDict(items))
        self.label = label if label is not None else key
        self.current: Any = self.domain[0]

    @property
    def domain(self) -> list[Any]:
        return list(self.names) if self.names is not None else list(range(len(self.candidates)))

    def candidate(self, value: Any) -> nn.Module:
        """The candidate module for a sample value (name or index)."""
        return self.candidates[str(value)]

    def __len__(self) -> int:
        return len(self.candidates)

    def __getitem__(self, value: Any) -> nn.Module:
        return self.candidate(value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.candidate(self.current)(*args, **kwargs)

    def freeze(self, sample: Mapping[str, object]) -> nn.Module:
        return self.candidate(sample[self.require_label()])

    def module_decisions(self) -> list[Decision]:
        return [self]

    def active_children(self, sample: Mapping[str, object]) -> list[nn.Module]:
        return [self.candidate(sample[self.require_label()])]

    def branches(self) -> list[Branch]:
        label = self.require_label()
        return [Branch(((label, key),), self.candidate(key)) for key in self.domain]

    def extra_repr(self) -> str:
        return f"label={self.label!r}"

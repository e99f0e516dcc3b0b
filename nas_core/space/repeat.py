"""Repeat: a stack of blocks whose depth is a decision."""
from __future__ import annotations

import copy
from typing import Any, Callable, Mapping, Sequence

from torch import nn

from nas_core.errors import SpaceDefinitionError
from nas_core.space.expr import ValueChoice, ValueExpr, evaluate
from nas_core.space.mutable import MutableModule

__all__ = ["Repeat"]


class Repeat(MutableModule):
    """Run the first ``depth`` of a stack of blocks in sequence.

    ``blocks`` is a factory ``fn(index) -> nn.Module``, a module (deep-copied), or a list
    of modules. ``depth`` is an int, a ``(min, max)`` tuple, a list of depths, or a
    :class:`ValueChoice`. Freezing gives a plain ``nn.Sequential``.
    """

    def __init__(
        self,
        blocks: Callable[[int], nn.Module] | nn.Module | Sequence[nn.Module],
        depth: int | tuple[int, int] | Sequence[int] | ValueExpr,
        *,
        label: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(depth, ValueExpr):
            if label is not None and isinstance(depth, ValueChoice) and depth.label is None:
                depth.label = label
            self.depth_choice: Any = depth
        elif isinstance(depth, int):
            self.depth_choice = depth
        elif isinstance(depth, tuple) and len(depth) == 2 and all(isinstance(d, int) for d in depth):
            self.depth_choice = ValueChoice(list(range(depth[0], depth[1] + 1)), label=label)
        elif isinstance(depth, (list, tuple)) and depth and all(isinstance(d, int) for d in depth):
            self.depth_choice = ValueChoice(list(depth), label=label)
        else:
            raise SpaceDefinitionError(
                f"Repeat depth must be an int, a (min, max) tuple, a list of ints or a ValueChoice; got {depth!r}."
            )
        depths = self.depth_choice.possible_values() if isinstance(self.depth_choice, ValueExpr) else [self.depth_choice]
        if any((not isinstance(d, int)) or d < 0 for d in depths):
            raise SpaceDefinitionError(f"Repeat depths must be non-negative ints; got {depths}.")
        max_depth = max(depths)
        if isinstance(blocks, nn.Module):
            mods = [blocks] + [copy.deepcopy(blocks) for _ in range(max_depth - 1)]
        elif callable(blocks):
            mods = [blocks(i) for i in range(max_depth)]
        else:
            mods = list(blocks)
            if len(mods) < max_depth:
                raise SpaceDefinitionError(
                    f"Repeat got {len(mods)} blocks but depth can reach {max_depth}; give at least {max_depth}."
                )
        for i, m in enumerate(mods):
            if not isinstance(m, nn.Module):
                raise SpaceDefinitionError(f"Repeat block {i} is a {type(m).__name__}, not an nn.Module.")
        self.blocks = nn.ModuleList(mods)

    @property
    def depth(self) -> int:
        return evaluate(self.depth_choice)

    def forward(self, x: Any) -> Any:
        for block in self.blocks[: self.depth]:
            x = block(x)
        return x

    def freeze(self, sample: Mapping[str, object]) -> nn.Module:
        return nn.Sequential(*self.blocks[: evaluate(self.depth_choice, sample)])

    def value_choices(self) -> dict[str, Any]:
        return {"depth": self.depth_choice}

    def active_children(self, sample: Mapping[str, object]) -> list[nn.Module]:
        """The first ``depth`` blocks (the depth ``sample`` gives)."""
        return list(self.blocks[: evaluate(self.depth_choice, sample)])

    def extra_repr(self) -> str:
        return f"depth={self.depth_choice!r}"

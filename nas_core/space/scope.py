"""MutableScope: NNI's named group of choices.

In NNI, ``MutableScope(key)`` marked a block (an ENAS cell, say) so that a mutator could see
which choices belong together. Here it is an ordinary ``nn.Module`` to subclass exactly as
in NNI; the choices inside keep their own labels (generated from their module path, which
runs through the scope, or given with ``label=``), and :meth:`MutableScope.labels` lists
them. Nothing else changes: a scope is not a decision and survives freezing as a plain module.
"""
from __future__ import annotations

from torch import nn

from nas_core.space.expr import leaf_choices
from nas_core.space.mutable import MutableModule

__all__ = ["MutableScope"]


class MutableScope(nn.Module):
    """A named group of choices: ``class Cell(MutableScope): def __init__(self): super().__init__("cell")``."""

    def __init__(self, key: str | None = None) -> None:
        super().__init__()
        if key is not None and (not isinstance(key, str) or not key):
            raise TypeError(f"MutableScope key must be a non-empty string or None, got {key!r}.")
        self.key = key

    def labels(self) -> list[str]:
        """The labels of the choices inside this scope, in module order.

        Generated labels exist once the whole model's space was built (``search_space(model)``);
        before that, choices without ``label=`` are not listed.
        """
        out: list[str] = []
        for module in self.modules():
            if not isinstance(module, MutableModule):
                continue
            objs = list(module.module_decisions())
            for value in module.value_choices().values():
                objs.extend(leaf_choices(value))
            for obj in objs:
                if obj.label is not None and obj.label not in out:
                    out.append(obj.label)
        return out

    def extra_repr(self) -> str:
        return f"key={self.key!r}"

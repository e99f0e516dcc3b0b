"""ShapeFormula: a module's (or function's) symbolic output shape and its costs."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

__all__ = ["ShapeFormula"]


class ShapeFormula(ABC):
    """Maps a module (or torch function) and its symbolic input shapes to its output shape.

    Registered per target through the ``register_shape_formulas`` hook and looked up along
    the class MRO. Shapes are sequences whose entries are ints or expressions over the
    sample (see :mod:`nas_core.shapes`). A formula for a leaf module also gives its costs.
    """

    @abstractmethod
    def infer(self, target: Any, inputs: Sequence[Any], **kwargs: Any) -> Any:
        """Output shape(s) of ``target`` applied to inputs of ``inputs`` shapes."""

    def costs(self, target: Any, inputs: Sequence[Any], output: Any, **kwargs: Any) -> dict[str, Any]:
        """Costs by metric (e.g. ``{"macs": ..., "params": ...}``); {} when it costs nothing."""
        return {}

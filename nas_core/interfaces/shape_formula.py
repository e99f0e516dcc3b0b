"""ShapeFormula: a module's (or function's) symbolic output shape and its costs."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["ShapeFormula", "COST_KINDS"]

#: cost categories a formula may report; ``macs`` is what FLOPs profilers count by default
COST_KINDS = ("macs", "bias", "norm", "activation", "elementwise")


class ShapeFormula(ABC):
    """Maps a module (or torch function) and its symbolic inputs to its symbolic output shape.

    Registered per target through the ``register_shape_formulas`` hook (or
    :func:`nas_core.shapes.register_formula`) and looked up along the class MRO, so a
    subclass of ``nn.Conv2d`` inherits the ``nn.Conv2d`` formula. Tensors arrive as
    :class:`nas_core.shapes.SymTensor` (``.shape`` entries are ints or
    :class:`nas_core.shapes.Sym`); hyper-parameters are read with
    :func:`nas_core.shapes.hp` so that choice-dependent ones become Syms.
    """

    #: "all": the output exists when every input does; "any": when either does (x + skip)
    presence: str = "all"

    @abstractmethod
    def infer(self, target: object, *args: Any, **kwargs: Any) -> Any:
        """Output shape (tuple of int/Sym), or a nested tuple/list matching the output."""

    def costs(self, target: object, out: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Costs by category (see :data:`COST_KINDS`); values int or Sym. {} costs nothing."""
        return {}

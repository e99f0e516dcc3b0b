"""Formula lookup: module formulas along the class MRO, function formulas by object or name.

Formulas come from packs (the ``register_shape_formulas`` hook) and from the user at run
time (:func:`register_formula`, :func:`leaf`). A user registration overrides a pack's;
two packs registering the same target is an error naming both distributions.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, cast

from torch import nn

from nas_core.errors import DuplicateComponentError, SpaceDefinitionError
from nas_core.interfaces.shape_formula import ShapeFormula

__all__ = [
    "Formula",
    "FormulaTable",
    "register_formula",
    "unregister_formula",
    "leaf",
    "formula_table",
    "target_name",
    "same_shape",
]


class Formula(ShapeFormula):
    """A formula from plain functions.

    ``infer(target, *args, **kwargs)`` returns the output shape (a tuple of int/Sym, or a
    nested tuple/list of them matching the output); tensors in ``args`` arrive as
    :class:`~nas_core.shapes.trace.SymTensor`. ``costs(target, out, *args, **kwargs)``
    returns ``{"macs": ..., "bias": ..., "norm": ..., "activation": ..., "elementwise": ...}``
    (any subset; values int or Sym). ``presence="any"`` marks element-wise merges
    (``x + skip``) whose result exists when either operand does.
    """

    def __init__(self, infer: Callable[..., Any], costs: Callable[..., Mapping[str, Any]] | None = None,
                 presence: str = "all", name: str | None = None) -> None:
        self._infer = infer
        self._costs = costs
        self.presence = presence
        self.name = name or getattr(infer, "__name__", "formula")

    def infer(self, target: object, *args: Any, **kwargs: Any) -> Any:
        return self._infer(target, *args, **kwargs)

    def costs(self, target: object, out: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(self._costs(target, out, *args, **kwargs)) if self._costs else {}

    def __repr__(self) -> str:
        return f"Formula({self.name})"


def same_shape(target: object, x: Any, *args: Any, **kwargs: Any) -> Any:
    """Shape function for ops whose output has their first input's shape."""
    return tuple(x.shape)


def target_name(target: object) -> str:
    if isinstance(target, str):
        return target
    if isinstance(target, type):
        return f"{target.__module__}.{target.__qualname__}"
    return getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or repr(target)


@dataclass
class _Entry:
    formula: ShapeFormula
    leaf: bool
    source: str  # distribution name or "user"


class FormulaTable:
    """Formulas by target, with MRO lookup for module classes."""

    def __init__(self) -> None:
        self._entries: dict[Any, _Entry] = {}
        self._conflicts: dict[Any, list[str]] = {}

    def add(self, target: object, formula: ShapeFormula | Callable[..., Any], leaf: bool = False,
            source: str = "user") -> None:
        if not isinstance(formula, ShapeFormula):
            if callable(formula):
                formula = Formula(formula)
            else:
                raise SpaceDefinitionError(f"a shape formula for {target_name(target)} must be a ShapeFormula or a function.")
        targets = target if isinstance(target, (list, tuple)) else [target]
        for t in targets:
            if isinstance(t, type) and t is nn.Module:
                raise SpaceDefinitionError("cannot register a formula for nn.Module itself.")
            old = self._entries.get(t)
            if old is not None and old.source != source and source != "user" and old.source != "user":
                self._conflicts.setdefault(t, [old.source]).append(source)
            if old is not None and old.source == "user" and source != "user":
                continue  # user registrations win over packs
            self._entries[t] = _Entry(formula, leaf, source)

    def remove(self, target: object) -> None:
        self._entries.pop(target, None)

    def _check(self, target: Any) -> None:
        if target in self._conflicts:
            raise DuplicateComponentError(
                f"shape formula for {target_name(target)} is registered by {' and '.join(self._conflicts[target])}. "
                "Uninstall one pack, or override with nas_core.shapes.register_formula."
            )

    def for_module(self, module: nn.Module) -> tuple[ShapeFormula | None, bool]:
        """(formula, is_leaf) for a module instance, searching its class MRO."""
        for cls in type(module).__mro__:
            if cls is nn.Module or cls is object:
                break
            entry = self._entries.get(cls)
            if entry is not None:
                self._check(cls)
                return entry.formula, entry.leaf
        return None, False

    def for_function(self, func: object) -> ShapeFormula | None:
        """Formula for a torch function / method, by object then by ``__name__``."""
        try:
            entry = self._entries.get(func)
        except TypeError:
            entry = None
        if entry is None:
            name = getattr(func, "__name__", None)
            if name is not None:
                entry = self._entries.get(name)
                if entry is not None:
                    self._check(name)
        else:
            self._check(func)
        return entry.formula if entry else None

    def source_of(self, formula: ShapeFormula) -> str:
        """Who registered ``formula``: a distribution name, ``"user"``, or ``"unknown"``."""
        for entry in self._entries.values():
            if entry.formula is formula:
                return entry.source
        return "unknown"

    def copy(self) -> "FormulaTable":
        t = FormulaTable()
        t._entries = dict(self._entries)
        t._conflicts = {k: list(v) for k, v in self._conflicts.items()}
        return t


_user = FormulaTable()
_lock = threading.Lock()


def register_formula(target: object, formula: ShapeFormula | Callable[..., Any], costs: Callable[..., Any] | None = None,
                     leaf: bool = False) -> None:
    """Register a formula at run time (overrides packs).

    ``register_formula(MyBlock, lambda m, x: x.shape, costs=lambda m, out, x: {"macs": ...}, leaf=True)``
    """
    if costs is not None and not isinstance(formula, ShapeFormula):
        formula = Formula(formula, costs)
    with _lock:
        _user.add(target, formula, leaf=leaf, source="user")


def unregister_formula(target: object) -> None:
    """Remove a run-time registration."""
    with _lock:
        _user.remove(target)


def leaf(shape: Callable[..., Any] | str = "same", costs: Callable[..., Mapping[str, Any]] | None = None):
    """Class decorator declaring a module a leaf, costed as a whole.

    Shape inference does not open it and every profiler uses ``costs``. ``shape`` is a
    function ``(module, *inputs) -> shape`` or ``"same"`` (output shape = first input's).
    """

    def deco(cls: type) -> type:
        infer: Callable[..., Any] = same_shape if shape == "same" else cast(Callable[..., Any], shape)
        register_formula(cls, Formula(infer, costs, name=f"leaf:{cls.__name__}"), leaf=True)
        return cls

    return deco


def formula_table() -> FormulaTable:
    """Pack formulas from the registry, overridden by run-time registrations."""
    from nas_core.registry import get_registry

    table = FormulaTable()
    for entry in get_registry().formulas():
        table.add(entry.target, entry.formula, leaf=entry.leaf, source=entry.distribution)
    with _lock:
        for target, e in _user._entries.items():
            table._entries[target] = e
            table._conflicts.pop(target, None)
    return table

"""The base class of modules whose structure follows decisions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from torch import nn

from nas_core.errors import SpaceDefinitionError


__all__ = ["MutableModule", "Decision", "Branch", "require_label"]


class Decision:
    """What every decision exposes: a label, a finite domain of canonical values, a default.

    :class:`~nas_core.space.expr.ValueChoice`, :class:`~nas_core.space.LayerChoice` and
    :class:`~nas_core.space.InputChoice` are decisions. ``current`` is the value used when
    the (unfrozen) space runs forward.
    """

    label: str | None
    current: Any

    def require_label(self) -> str:
        """The label; a decision gets one from its constructor or from ``search_space(model)``."""
        return require_label(self)

    @property
    def domain(self) -> list[Any]:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def default(self) -> Any:
        return self.domain[0]


def require_label(decision: Any) -> str:
    """``decision.label``, or a :class:`SpaceDefinitionError` when it has none yet."""
    if decision.label is None:
        raise SpaceDefinitionError(
            f"this {type(decision).__name__} has no label yet: give it label=..., or call "
            "nas_core.space.search_space(model) first (it names every unlabelled choice)."
        )
    return str(decision.label)


@dataclass(frozen=True)
class Branch:
    """One child a mutable module may run, and the label values under which it runs.

    ``values`` pairs each label the choice reads with its value for this branch, in the
    module's label order; ``module`` runs exactly when the sample gives every label its value.
    """

    values: tuple[tuple[str, Any], ...]
    module: nn.Module

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.values]

    @property
    def key(self) -> tuple[Any, ...]:
        """The branch's values alone, in label order."""
        return tuple(value for _, value in self.values)


class MutableModule(nn.Module):
    """A module that is replaced by a plain module when a sample is frozen.

    Subclasses implement :meth:`freeze` and, if they hold :class:`ValueChoice` arguments,
    :meth:`value_choices` (argument name to value, used to find and name decisions).
    """

    def freeze(self, sample: Mapping[str, object]) -> nn.Module:
        """A plain ``nn.Module`` for ``sample`` (children may still need freezing)."""
        raise NotImplementedError

    def value_choices(self) -> dict[str, Any]:
        """Arguments of this module that may hold value choices, by name."""
        return {}

    def module_decisions(self) -> list[Decision]:
        """Decisions that this module itself is (LayerChoice, InputChoice)."""
        return []

    def active_children(self, sample: Mapping[str, object]) -> list[nn.Module] | None:
        """The children that run under ``sample`` (a validated sample), or ``None`` when every
        child runs. The one place that says which part of a space a sample uses: a LayerChoice
        runs the chosen candidate, a Repeat its first ``depth`` blocks, a ``Parametrized``
        layer its variant for the sample. :func:`nas_core.space.canonical.active_labels`,
        freezing and the one-shot code walk a space with it.
        """
        return None

    def branches(self) -> list[Branch]:
        """The alternative children this module picks between, one :class:`Branch` each.

        A LayerChoice has one per candidate, a ``Parametrized`` layer one per combination of
        its choices' values; modules that run no alternative child (an InputChoice selects
        inputs, a Repeat's blocks run nested by depth) have none.
        """
        return []

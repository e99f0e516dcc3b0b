"""Objectives, constraints and their validation against the space and the known metrics."""
from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from nas_core.errors import ConfigError

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["Bound", "Objective", "parse_objectives", "parse_constraints", "DIRECTIONS"]

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Objective:
    """A metric to optimise and its direction (``"max"`` or ``"min"``)."""

    metric: str
    direction: str

    def better(self, value: float) -> float:
        """``value`` signed so that larger is better."""
        return value if self.direction == "max" else -value


@dataclass(frozen=True)
class Bound:
    """A hard bound on a metric (``min``/``max``) or on a label's value (``min``/``max``/``allowed``)."""

    key: str
    kind: str  # "metric" or "label"
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None

    def violation(self, value: Any) -> str | None:
        """None when ``value`` satisfies the bound, else a sentence saying how it fails."""
        if self.allowed is not None and not any(_same(value, a) for a in self.allowed):
            return f"{self.key} = {value!r} is not one of the allowed {list(self.allowed)}"
        if self.min is None and self.max is None:
            return None
        try:
            v = float(value)
        except (TypeError, ValueError):
            return f"{self.key} = {value!r} is not a number, so min/max cannot apply"
        if math.isnan(v):
            return f"{self.key} is NaN"
        if self.min is not None and v < self.min:
            return f"{self.key} = {v:g} is below the minimum {self.min:g}"
        if self.max is not None and v > self.max:
            return f"{self.key} = {v:g} is above the maximum {self.max:g}"
        return None

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.allowed is not None:
            parts.append(f"in {list(self.allowed)}")
        return f"{self.key} " + " and ".join(parts)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _unknown(field: str, name: str, known: Sequence[str], what: str) -> ConfigError:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ConfigError(f"{field}: unknown {what} {name!r}.{hint} Known: {', '.join(map(repr, known)) or 'none'}.")


def parse_objectives(raw: object, metrics: Sequence[str], default: Sequence[Objective]) -> list[Objective]:
    """Objectives from ``{metric: "max"|"min"}`` (ordered; the first one is primary)."""
    if raw is None:
        return list(default)
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, (list, tuple)) and all(isinstance(o, Objective) for o in raw):
        items = [(o.metric, o.direction) for o in raw]
    else:
        raise ConfigError(
            f"objectives must be a table of metric = \"max\" or \"min\" (e.g. accuracy = \"max\", flops = \"min\"), "
            f"got {raw!r}."
        )
    if not items:
        raise ConfigError("objectives is empty; name at least one metric, e.g. accuracy = \"max\".")
    out = []
    for name, direction in items:
        if name not in metrics:
            raise _unknown(f"objectives.{name}", name, metrics, "metric")
        if direction not in DIRECTIONS:
            raise ConfigError(f"objectives.{name}: direction must be \"max\" or \"min\", got {direction!r}.")
        out.append(Objective(name, direction))
    return out


def parse_constraints(raw: object, metrics: Sequence[str], space: SearchSpace) -> list[Bound]:
    """Hard bounds: ``{metric: {max: 1e6}, label: {allowed: [...]} }``.

    A key naming a metric (a profiler's cost or a trainer metric) bounds that metric; a key
    naming a label of the space bounds the value chosen for it.
    """
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise ConfigError(f"constraints must be a table of name -> {{min = ..., max = ...}}, got {raw!r}.")
    labels = list(space.labels)
    out = []
    for key, spec in raw.items():
        field = f"constraints.{key}"
        if key in metrics:
            kind = "metric"
        elif key in labels:
            kind = "label"
        else:
            close = difflib.get_close_matches(str(key), list(metrics) + labels, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ConfigError(
                f"{field}: {key!r} is neither a metric nor a label of the space.{hint} Metrics: "
                f"{', '.join(map(repr, metrics)) or 'none'}; labels: {', '.join(map(repr, labels))}."
            )
        if isinstance(spec, (tuple, list)) and len(spec) == 2 and kind == "metric":
            spec = {"min": spec[0], "max": spec[1]}
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{field} must be a table such as {{max = 1e6}} or {{min = 0.9}}, got {spec!r}.")
        extra = set(spec) - {"min", "max", "allowed"}
        if extra:
            raise ConfigError(f"{field}: unknown key {sorted(extra)[0]!r}; a bound has min, max and (for labels) allowed.")
        if kind == "metric" and "allowed" in spec:
            raise ConfigError(f"{field}: 'allowed' applies to labels only; bound a metric with min and max.")
        vals = {}
        for side in ("min", "max"):
            v = spec.get(side)
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v)):
                raise ConfigError(f"{field}.{side} must be a number, got {v!r}.")
            vals[side] = None if v is None else float(v)
        if vals["min"] is None and vals["max"] is None and spec.get("allowed") is None:
            raise ConfigError(f"{field} sets no bound; give min, max or (for a label) allowed.")
        if vals["min"] is not None and vals["max"] is not None and vals["min"] > vals["max"]:
            raise ConfigError(f"{field}: min ({vals['min']:g}) is larger than max ({vals['max']:g}); swap them.")
        allowed = spec.get("allowed")
        if allowed is not None:
            if not isinstance(allowed, (list, tuple)) or not allowed:
                raise ConfigError(f"{field}.allowed must be a non-empty list of values, got {allowed!r}.")
            choice = space.choices[key]
            for a in allowed:
                try:
                    choice.index(list(a) if isinstance(a, tuple) else a)
                except ValueError:
                    raise ConfigError(
                        f"{field}.allowed: {a!r} is not a value of label {key!r}; its values are {choice.domain}."
                    ) from None
            allowed = tuple(allowed)
        out.append(Bound(str(key), kind, vals["min"], vals["max"], allowed))
    return out

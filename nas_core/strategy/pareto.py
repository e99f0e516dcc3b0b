"""The Pareto set (non-dominated points) of trials with several objectives."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from nas_core.errors import ConfigError

__all__ = ["pareto_front"]

_DIRECTIONS = {"max": 1.0, "min": -1.0}


def pareto_front(points: Sequence[Mapping[str, Any]], directions: Mapping[str, str]) -> list[int]:
    """Indices (ascending) of the points that no other point dominates.

    ``points`` are metric dicts (e.g. ``{"accuracy": 0.97, "flops": 2.1e6}``);
    ``directions`` maps each objective to ``"max"`` or ``"min"``; other keys of the points
    are ignored. Point ``a`` dominates ``b`` when it is at least as good on every
    objective and strictly better on one; equal points do not dominate each other, so
    duplicates on the front are all returned. A point whose value for an objective is
    missing, None or NaN (a failed trial) is never on the front.
    """
    if not isinstance(directions, Mapping) or not directions:
        raise ConfigError(
            f"pareto_front needs directions as a non-empty dict of objective -> 'max' or 'min', "
            f"e.g. {{'accuracy': 'max', 'flops': 'min'}}; got {directions!r}."
        )
    bad = {k: v for k, v in directions.items() if v not in _DIRECTIONS}
    if bad:
        k, v = next(iter(bad.items()))
        raise ConfigError(f"pareto_front: direction of {k!r} must be 'max' or 'min', got {v!r}.")
    names = list(directions)
    rows: list[list[float]] = []
    keep: list[int] = []
    present = {n: False for n in names}
    for i, p in enumerate(points):
        if not isinstance(p, Mapping):
            raise ConfigError(f"pareto_front: point {i} must be a dict of metric -> value, got {p!r}.")
        row = []
        for n in names:
            v = p.get(n)
            if v is not None:
                present[n] = True
            try:
                f = float(v) if v is not None else math.nan
            except (TypeError, ValueError):
                raise ConfigError(f"pareto_front: point {i} has a non-numeric {n!r}: {v!r}.") from None
            row.append(f * _DIRECTIONS[directions[n]])
        if not any(math.isnan(x) for x in row):
            rows.append(row)
            keep.append(i)
    missing = [n for n, seen in present.items() if not seen]
    if points and missing:
        keys = sorted({k for p in points for k in p})
        raise ConfigError(
            f"pareto_front: no point has objective {missing[0]!r}; the points have {keys}. "
            "Check the objective names in directions."
        )
    if not rows:
        return []
    a = np.asarray(rows)  # larger is better in every column
    front = []
    for j in range(len(a)):
        dominated = np.any(np.all(a >= a[j], axis=1) & np.any(a > a[j], axis=1))
        if not dominated:
            front.append(keep[j])
    return front

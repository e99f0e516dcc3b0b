"""The Pareto set (non-dominated points) for any number of objectives.

Torch-free, so reading commands (``nas results``, the dashboard) import it cheaply.
Two objectives take one sort and a sweep (O(n log n)); more objectives compare each point,
in descending lexicographic order, with the front found so far (O(n * front size)).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from nas_core.errors import ConfigError

__all__ = ["pareto_front", "nondominated"]

_DIRECTIONS = {"max": 1.0, "min": -1.0}


def nondominated(values: Any) -> np.ndarray:
    """Row indices (ascending) of an ``(n, k)`` array whose rows no other row dominates.

    Larger is better in every column (negate a column to minimise it). Row ``a``
    dominates ``b`` when it is at least as large in every column and larger in one; equal
    rows do not dominate each other, so duplicates on the front are all returned. A row
    with a NaN is never on the front.
    """
    a = np.asarray(values, dtype=float)
    if a.ndim != 2:
        raise ConfigError(f"nondominated needs an (n, k) array of objective values, got shape {a.shape}.")
    rows = np.flatnonzero(~np.isnan(a).any(axis=1))
    a = a[rows]
    if len(a) == 0 or a.shape[1] == 0:
        return rows[:0] if a.shape[1] else rows
    if a.shape[1] == 1:
        front = np.flatnonzero(a[:, 0] == a[:, 0].max())
    elif a.shape[1] == 2:
        front = _front_2d(a[:, 0], a[:, 1])
    else:
        front = _front_general(a)
    return np.sort(rows[front])


def _front_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sort by x then y, both descending; a point is on the front when its y is the largest of its x
    and larger than every y seen at a larger x."""
    order = np.lexsort((-y, -x))
    xs, ys = x[order], y[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    group = np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1
    group_best = ys[starts]  # y is descending inside each group
    before = np.r_[-np.inf, np.maximum.accumulate(group_best)[:-1]]
    on_front = (ys == group_best[group]) & ((group == 0) | (group_best[group] > before[group]))
    return order[on_front]


def _front_general(a: np.ndarray) -> np.ndarray:
    """Only a point earlier in descending lexicographic order can dominate a later one, and a
    dominated point's dominator is itself dominated by a front point: compare with the front."""
    order = np.lexsort(tuple(-a[:, j] for j in reversed(range(a.shape[1]))))
    front = np.empty_like(a)
    kept: list[int] = []
    for i in order:
        p = a[i]
        f = front[: len(kept)]
        if len(kept) and np.any(np.all(f >= p, axis=1) & np.any(f > p, axis=1)):
            continue
        front[len(kept)] = p
        kept.append(int(i))
    return np.asarray(kept, dtype=np.intp)


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
    signs = [_DIRECTIONS[directions[n]] for n in names]
    rows: list[list[float]] = []
    present = {n: False for n in names}
    for i, p in enumerate(points):
        if not isinstance(p, Mapping):
            raise ConfigError(f"pareto_front: point {i} must be a dict of metric -> value, got {p!r}.")
        row = []
        for n, sign in zip(names, signs):
            v = p.get(n)
            if v is not None:
                present[n] = True
            try:
                f = float(v) if v is not None else math.nan
            except (TypeError, ValueError):
                raise ConfigError(f"pareto_front: point {i} has a non-numeric {n!r}: {v!r}.") from None
            row.append(f * sign)
        rows.append(row)
    missing = [n for n, seen in present.items() if not seen]
    if points and missing:
        keys = sorted({k for p in points for k in p})
        raise ConfigError(
            f"pareto_front: no point has objective {missing[0]!r}; the points have {keys}. "
            "Check the objective names in directions."
        )
    if not rows:
        return []
    return [int(i) for i in nondominated(np.asarray(rows, dtype=float).reshape(len(rows), len(names)))]

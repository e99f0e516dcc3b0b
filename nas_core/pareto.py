"""The Pareto set (non-dominated points) for any number of objectives.

Torch-free, so reading commands (``nas results``, the dashboard) import it cheaply.
Two objectives take one sort and a sweep (O(n log n), plain Python); more objectives compare
each point, in descending lexicographic order, with the front found so far (O(n * front
size), numpy). :func:`hypervolume` measures a front (the region it dominates above a
reference point): how search strategies are compared on several objectives.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    import numpy as np

from nas_core.errors import ConfigError

__all__ = ["pareto_front", "nondominated", "hypervolume"]

_DIRECTIONS = {"max": 1.0, "min": -1.0}


def nondominated(values: Any) -> list[int]:
    """Row indices (ascending) of an ``(n, k)`` table (rows of numbers, or an array) that no other row dominates.

    Larger is better in every column (negate a column to minimise it). Row ``a``
    dominates ``b`` when it is at least as large in every column and larger in one; equal
    rows do not dominate each other, so duplicates on the front are all returned. A row
    with a NaN is never on the front. Two columns take a sort and a sweep in plain Python
    (no numpy import: reading commands stay fast); more use numpy.
    """
    try:
        rows = values.tolist() if hasattr(values, "tolist") else [list(r) for r in values]
        widths = {len(r) for r in rows} if rows else {getattr(values, "shape", (0, 0))[-1]}
    except TypeError:
        widths = set()
    if len(widths) != 1 or getattr(values, "ndim", 2) != 2:
        raise ConfigError(f"nondominated needs an (n, k) table of objective values (rows of numbers), got "
                          f"{getattr(values, 'shape', None) or repr(values)[:60]}.")
    kept = [i for i, r in enumerate(rows) if not any(math.isnan(v) for v in r)]
    k = widths.pop()
    if not kept or k == 0:
        return kept
    if k == 1:
        top = max(rows[i][0] for i in kept)
        return [i for i in kept if rows[i][0] == top]
    if k == 2:
        return sorted(_front_2d([rows[i] for i in kept], kept))
    import numpy as np

    return sorted(kept[j] for j in _front_general(np.asarray([rows[i] for i in kept], dtype=float)))


def _front_2d(rows: list[list[float]], ids: list[int]) -> list[int]:
    """Sort by x then y, both descending; a point is on the front when its y is the largest of its x
    (ties included) and larger than every y seen at a larger x."""
    order = sorted(range(len(rows)), key=lambda j: (-rows[j][0], -rows[j][1]))
    front: list[int] = []
    best_before = None  # the largest y at any x larger than the current one
    group_x, group_top = None, None
    for j in order:
        x, y = rows[j]
        if x != group_x:  # a new x: the previous group's top is now "before"
            if group_top is not None and (best_before is None or group_top > best_before):
                best_before = group_top
            group_x, group_top = x, y  # y is descending inside a group: the first is its top
        if y == group_top and (best_before is None or y > best_before):
            front.append(ids[j])
    return front


def _front_general(a: np.ndarray) -> np.ndarray:
    """Only a point earlier in descending lexicographic order can dominate a later one, and a
    dominated point's dominator is itself dominated by a front point: compare with the front."""
    import numpy as np

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
            value = p.get(n)
            if value is not None:
                present[n] = True
            try:
                f = float(value) if value is not None else math.nan
            except (TypeError, ValueError):
                raise ConfigError(f"pareto_front: point {i} has a non-numeric {n!r}: {value!r}.") from None
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
    return nondominated(rows)


def hypervolume(values: Any, reference: Sequence[float]) -> float:
    """The volume dominated by the rows of an ``(n, k)`` table and bounded by ``reference``.

    Larger is better in every column, as in :func:`nondominated` (negate a column to minimise
    it). A row counts only where it is larger than ``reference`` in every column; rows with a
    NaN count for nothing. Two columns take a sort and a sweep; more slice the front along the
    last column (exact, exponential in ``k``: meant for the few objectives of a search). To
    compare fronts across tasks, normalise each column to [0, 1] first (reference 0).
    Optuna computes the same quantity, but only in a private module (``optuna._hypervolume``).
    """
    ref = [float(r) for r in reference]
    rows = values.tolist() if hasattr(values, "tolist") else [list(r) for r in values]
    if any(len(r) != len(ref) for r in rows):
        raise ConfigError(f"hypervolume: every row needs {len(ref)} values (one per column of the reference "
                          f"point {ref}); got rows of {sorted({len(r) for r in rows})}.")
    above = [[float(v) for v in r] for r in rows if all(float(v) > c for v, c in zip(r, ref))]  # NaN > c is False
    if not above:
        return 0.0
    return _volume([above[i] for i in nondominated(above)], ref)


def _volume(front: list[list[float]], ref: list[float]) -> float:
    """Hypervolume of mutually non-dominated points that all dominate ``ref``."""
    if len(ref) == 1:
        return max(p[0] for p in front) - ref[0]
    if len(ref) == 2:  # descending x: y ascends along a front; each point adds its strip
        total, y_before = 0.0, ref[1]
        for x, y in sorted(front, key=lambda p: (-p[0], p[1])):
            if y > y_before:
                total += (x - ref[0]) * (y - y_before)
                y_before = y
        return total
    # slice along the last column: between consecutive levels, the points at or above a level
    levels = sorted({p[-1] for p in front}, reverse=True) + [ref[-1]]
    total = 0.0
    for upper, lower in zip(levels, levels[1:]):
        layer = [p[:-1] for p in front if p[-1] >= upper]
        kept = [layer[i] for i in nondominated(layer)]
        total += (upper - lower) * _volume(kept, ref[:-1])
    return total

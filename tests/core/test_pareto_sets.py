"""nas_core.pareto.nondominated: the sweep (2 objectives) and the general method equal a brute-force check."""
from __future__ import annotations

import numpy as np
import pytest

from nas_core.errors import ConfigError
from nas_core.pareto import nondominated, pareto_front


def brute_force(a: np.ndarray) -> list[int]:
    """Indices of rows no other row dominates (larger is better): every point against every point."""
    ok = ~np.isnan(a).any(axis=1)
    cols = [np.ascontiguousarray(a[:, j]) for j in range(a.shape[1])]
    front = []
    for i in np.flatnonzero(ok):
        at_least = ok.copy()
        better = np.zeros(len(a), dtype=bool)
        for c in cols:
            at_least &= c >= c[i]
            better |= c > c[i]
        if not np.any(at_least & better):
            front.append(int(i))
    return front


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("kind", ["float", "ties"])
def test_ten_thousand_random_points_equal_brute_force(k, kind):
    rng = np.random.default_rng(k)
    a = rng.random((10_000, k)) if kind == "float" else rng.integers(0, 40, (10_000, k)).astype(float)
    a[rng.choice(10_000, 50, replace=False), rng.integers(0, k)] = np.nan  # failed trials: never on the front
    expected = brute_force(a)
    got = nondominated(a)
    assert got == expected and len(expected) >= 2


def test_two_objective_sweep_on_ties_duplicates_and_infinities():
    a = np.array([[1, 5], [1, 5], [2, 3], [2, 1], [0, 9], [0, 9], [3, -np.inf], [3, -np.inf], [-np.inf, 10]])
    # (1,5) twice: kept; (2,1) is beaten by (2,3); (3,-inf) twice: best x; (-inf,10): best y
    assert nondominated(a) == [0, 1, 2, 4, 5, 6, 7, 8]
    assert nondominated(np.array([[4.0], [7.0], [7.0], [np.nan]])) == [1, 2]
    assert nondominated(np.empty((0, 2))) == []


def test_pareto_front_uses_directions_and_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    pts = [{"acc": float(x), "flops": float(y)} for x, y in rng.random((2_000, 2))]
    front = pareto_front(pts, {"acc": "max", "flops": "min"})
    a = np.array([[p["acc"], -p["flops"]] for p in pts])
    assert front == brute_force(a)


def test_nondominated_needs_a_matrix():
    with pytest.raises(ConfigError, match=r"\(n, k\) table"):
        nondominated([1.0, 2.0])

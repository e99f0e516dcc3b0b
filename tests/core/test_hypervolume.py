"""nas_core.pareto.hypervolume: known areas, and equal to counting grid cells on integer points (2 and 3 objectives)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from nas_core.errors import ConfigError
from nas_core.pareto import hypervolume


def test_a_staircase_and_what_does_not_count():
    stairs = [(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]
    assert hypervolume(stairs, (0.0, 0.0)) == pytest.approx(6.0)
    extra = stairs + [(1.0, 1.0), (-1.0, 5.0), (float("nan"), 9.0), (3.0, 1.0)]  # dominated, below, NaN, repeated
    assert hypervolume(extra, (0.0, 0.0)) == pytest.approx(6.0)
    assert hypervolume(np.array(stairs), (1.0, 1.0)) == pytest.approx(1.0)  # only (2, 2) is above (1, 1) in both
    assert hypervolume([], (0.0, 0.0)) == 0.0
    assert hypervolume([(0.5,), (0.25,)], (0.0,)) == pytest.approx(0.5)


def cells(points: np.ndarray) -> int:
    """Unit cells of the grid [0, 6)^k whose upper corner some point reaches (the exact volume above 0)."""
    k = points.shape[1]
    return sum(bool(np.any(np.all(points >= np.array(c) + 1, axis=1)))
               for c in itertools.product(range(6), repeat=k))


@pytest.mark.parametrize("k", [2, 3])
def test_equals_counting_cells(k):
    rng = np.random.default_rng(k)
    for _ in range(20):
        points = rng.integers(0, 7, size=(int(rng.integers(1, 12)), k)).astype(float)
        assert hypervolume(points, [0.0] * k) == pytest.approx(cells(points))


def test_rows_must_match_the_reference():
    with pytest.raises(ConfigError, match=r"every row needs 2 values .* got rows of \[3\]"):
        hypervolume([(1.0, 2.0, 3.0)], (0.0, 0.0))

"""pareto_front: non-dominated trials for any number of objectives and directions."""
from __future__ import annotations

import math
import random

import pytest

from nas_core import ConfigError
from nas_core.strategy import pareto_front


def test_accuracy_against_flops():
    points = [
        {"accuracy": 0.90, "flops": 1e6},  # front: cheapest
        {"accuracy": 0.95, "flops": 3e6},  # front
        {"accuracy": 0.94, "flops": 4e6},  # dominated by 1
        {"accuracy": 0.97, "flops": 9e6},  # front: most accurate
        {"accuracy": 0.89, "flops": 2e6},  # dominated by 0
    ]
    assert pareto_front(points, {"accuracy": "max", "flops": "min"}) == [0, 1, 3]
    # flipping a direction changes the front
    assert pareto_front(points, {"accuracy": "max", "flops": "max"}) == [3]


def test_three_objectives_duplicates_and_failed_points():
    points = [
        {"acc": 0.9, "lat": 5.0, "params": 100},
        {"acc": 0.9, "lat": 5.0, "params": 100},  # equal points do not dominate each other
        {"acc": 0.8, "lat": 4.0, "params": 200},
        {"acc": 0.8, "lat": 6.0, "params": 200},  # dominated
        {"acc": None, "lat": 1.0, "params": 1},  # failed trial: never on the front
        {"acc": math.nan, "lat": 1.0, "params": 1},
        {"lat": 1.0, "params": 1},
    ]
    assert pareto_front(points, {"acc": "max", "lat": "min", "params": "min"}) == [0, 1, 2]
    assert pareto_front([], {"acc": "max"}) == []


def test_matches_brute_force():
    rng = random.Random(0)
    points = [{"a": rng.randint(0, 9), "b": rng.random(), "c": rng.randint(0, 3)} for _ in range(200)]
    dirs = {"a": "max", "b": "min", "c": "max"}
    sign = {"max": 1, "min": -1}

    def dominates(p, q):
        ge = all(sign[d] * p[k] >= sign[d] * q[k] for k, d in dirs.items())
        gt = any(sign[d] * p[k] > sign[d] * q[k] for k, d in dirs.items())
        return ge and gt

    expected = [i for i, q in enumerate(points) if not any(dominates(p, q) for p in points)]
    assert pareto_front(points, dirs) == expected


@pytest.mark.parametrize(
    "points, directions, message",
    [
        ([{"a": 1}], {"a": "maximise"}, "direction of 'a' must be 'max' or 'min'"),
        ([{"a": 1}], {}, "non-empty dict"),
        ([{"accuracy": 1}], {"acc": "max"}, r"no point has objective 'acc'; the points have \['accuracy'\]"),
        ([{"a": "x"}], {"a": "max"}, "non-numeric 'a'"),
        ([3], {"a": "max"}, "point 0 must be a dict"),
    ],
)
def test_errors(points, directions, message):
    with pytest.raises(ConfigError, match=message):
        pareto_front(points, directions)

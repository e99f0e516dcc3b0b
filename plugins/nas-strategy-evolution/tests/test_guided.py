"""GuidedEvolution: the conformance kit, the surrogate, and that guidance beats random search."""
from __future__ import annotations

import statistics

import pytest

import nas_core
from nas_core import ConfigError, TrialResult
from nas_core.strategy.ranks import normal_score_of, normal_scores
from nas_core.strategy.testing import (
    assert_no_equivalents,
    assert_no_repeats,
    assert_only_feasible,
    assert_reproducible,
    assert_resumes_exactly,
    assert_state_compact,
    wide_score,
    wide_space,
)
from nas_strategy_evolution import GuidedEvolution
from nas_strategy_evolution.surrogate import HammingGP


def make(**kw):
    return lambda: GuidedEvolution(**{"initial": 4, "candidates": 60, "explore": 10, **kw})


def test_registered_by_name():
    assert nas_core.get_registry().get("strategy", "guided-evolution").factory is GuidedEvolution


def test_conformance_on_the_toy_space():
    assert_reproducible(make())
    assert_resumes_exactly(make(), rounds=10, resume_after=4)
    assert_no_repeats(make())


def test_state_is_compact_feasible_only_and_no_equivalents():
    short, long = assert_state_compact(make(), short=15, long=60)
    assert long <= short * 1.25 + 1024
    asked = assert_only_feasible(make(), wide_space(), lambda s: s["w0"] == 7 and s["w1"] == 7, rounds=20)
    assert len(asked) == 40
    assert_no_equivalents(make())


def test_surrogate_ranks_by_similarity_and_ranks_are_normal_scores():
    gp = HammingGP().fit([(0, 0, 0), (0, 0, 1), (1, 1, 1), (2, 2, 2)], [0.9, 0.85, 0.2, 0.1])
    mean, std = gp.predict([(0, 0, 2), (2, 2, 1)])
    assert float(mean[0]) > float(mean[1]) and bool((std > 0).all())
    z = normal_scores([0.0, 0.9, 0.91, 0.0])
    assert z[0] == z[3] < 0 < z[1] < z[2]
    assert abs(sum(normal_scores([3.0, 1.0, 2.0]))) < 1e-9
    assert normal_score_of(0.95, [0.0, 0.9]) > normal_score_of(0.5, [0.0, 0.9])


def test_finds_the_optimum_of_a_smooth_score_faster_than_random():
    space = wide_space()
    def evaluations_to(factory, seed, target=-0.03, budget=120):
        strategy = factory()
        strategy.setup(space, seed)
        for n in range(1, budget + 1):
            s = strategy.ask()
            score = wide_score(s)
            strategy.tell(s, TrialResult(score))
            if score >= target:
                return n
        return budget + 1

    from nas_strategy_random import Random

    guided = statistics.median(evaluations_to(make(candidates=200, explore=20), seed) for seed in range(3))
    random_ = statistics.median(evaluations_to(Random, seed) for seed in range(3))
    assert guided < random_ / 2, (guided, random_)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"initial": 1}, "initial must be an integer >= 2"), ({"window": 5}, "window must be an integer >= 10"),
     ({"parents": 0}, "parents must be an integer >= 1")],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        GuidedEvolution(**kwargs)

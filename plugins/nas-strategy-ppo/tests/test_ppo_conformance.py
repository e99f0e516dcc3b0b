"""PolicyBasedRL against the whole conformance kit: compact state, feasibility handed over, no equivalent proposals."""
from __future__ import annotations

import pytest

from nas_core.strategy import Chain, Filter
from nas_core.strategy.testing import (
    assert_no_equivalents,
    assert_only_feasible,
    assert_resumes_exactly,
    assert_state_compact,
    nested_space,
    wide_space,
)
from nas_strategy_ppo import PolicyBasedRL


def make(**kw):
    return lambda: PolicyBasedRL(**kw)


@pytest.mark.slow
def test_state_does_not_grow_with_the_trials():
    short, long = assert_state_compact(make())
    assert long <= short * 1.25 + 1024


def test_resumes_exactly_from_state_and_history_on_a_space_with_equivalents():
    assert_resumes_exactly(make(), nested_space(), rounds=12, resume_after=5)


def test_never_proposes_an_infeasible_sample_when_one_percent_is_feasible():
    space = wide_space()
    # w0 == 7 and w1 == 7: 1 % of the samples
    asked = assert_only_feasible(make(), space, lambda s: s["w0"] == 7 and s["w1"] == 7, rounds=25)
    assert len(asked) == 50


def test_filter_hands_its_predicate_over_and_rejects_nothing():
    space = wide_space()
    flt = Filter(lambda s: s["w0"] == 7 and s["w1"] == 7, patience=3)
    chain = Chain(make()(), flt)
    chain.setup(space, 0)
    assert flt.guiding
    for _ in range(20):
        s = chain.ask()
        assert s["w0"] == 7 and s["w1"] == 7
    assert flt.n_rejected == 0 and chain.drain_rejected() == []


@pytest.mark.slow
def test_never_proposes_two_samples_that_build_the_same_network():
    assert_no_equivalents(make())

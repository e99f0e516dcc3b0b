"""Random against the whole conformance kit: compact state, feasibility handed over, no equivalent proposals."""
from __future__ import annotations

from nas_core.strategy.testing import assert_conformance, assert_guided_search
from nas_strategy_random import Random


def make():
    return lambda: Random()


def test_compact_state_exact_resume_feasible_proposals_and_no_equivalents():
    assert_guided_search(make())


def test_the_whole_kit_in_one_call():
    assert_conformance(make())

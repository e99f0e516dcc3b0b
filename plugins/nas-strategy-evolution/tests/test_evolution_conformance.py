"""RegularizedEvolution against the whole conformance kit: compact state, feasibility handed over, no equivalent proposals."""
from __future__ import annotations

from nas_core.strategy.testing import assert_guided_search
from nas_strategy_evolution import RegularizedEvolution


def make():
    return lambda: RegularizedEvolution(population_size=6, sample_size=3)


def test_compact_state_exact_resume_feasible_proposals_and_no_equivalents():
    assert_guided_search(make())

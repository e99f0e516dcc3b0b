"""PolicyBasedRL against the whole conformance kit: compact state, feasibility handed over, no equivalent proposals."""
from __future__ import annotations

import pytest

from nas_core.strategy.testing import assert_guided_search
from nas_strategy_ppo import PolicyBasedRL


def make():
    return lambda: PolicyBasedRL()


@pytest.mark.slow
def test_compact_state_exact_resume_feasible_proposals_and_no_equivalents():
    assert_guided_search(make())

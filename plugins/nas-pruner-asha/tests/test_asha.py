"""ASHA on hand-made curves: exact promotion and stopping decisions."""
from __future__ import annotations

import math

import pytest

import nas_core
from nas_core.errors import ConfigError
from nas_core.pruning import LearningCurve, TrialHistory
from nas_pruner_asha import ASHA


def curve(tid, points, status="running"):
    return LearningCurve.of(tid, points, status)


def history(*step1_scores):
    return TrialHistory.of([curve(i + 1, [(1, s)], "pruned") for i, s in enumerate(step1_scores)])


def test_rungs():
    assert [ASHA().rung_step(k) for k in range(4)] == [1, 3, 9, 27]
    assert [ASHA(min_resource=2, reduction_factor=4, min_early_stopping_rate=1).rung_step(k) for k in range(3)] == [
        8, 32, 128]


def test_the_first_trial_at_a_rung_goes_on():
    assert ASHA().should_prune(curve(1, [(1, 0.1)]), TrialHistory.of([])) is False


@pytest.mark.parametrize("others, score, expected", [
    ((0.5, 0.3), 0.4, True),        # 3 at the rung: only the best goes on
    ((0.5, 0.3), 0.5, False),       # a tie with the best goes on
    ((0.9, 0.8, 0.1, 0.2, 0.3), 0.8, False),  # 6 at the rung: the top 2 go on
    ((0.9, 0.8, 0.1, 0.2, 0.3), 0.7, True),
])
def test_top_one_over_eta_goes_on(others, score, expected):
    assert ASHA().should_prune(curve(9, [(1, score)]), history(*others)) is expected


def test_between_rungs_nothing_is_decided():
    bad = curve(9, [(1, 0.9), (2, 0.0)])
    assert ASHA().should_prune(bad, history(0.9, 0.95, 0.99)) is False


def test_a_trial_score_at_a_rung_is_its_first_report_at_or_after_it():
    # trial 1 reported at 1, 2, 4: its rung-3 score is its step-4 score (0.7)
    others = TrialHistory.of([curve(1, [(1, 0.5), (2, 0.6), (4, 0.7)]), curve(2, [(1, 0.1)])])
    assert ASHA().should_prune(curve(9, [(1, 0.6), (2, 0.6), (3, 0.69)]), others) is True
    assert ASHA().should_prune(curve(9, [(1, 0.6), (2, 0.6), (3, 0.70)]), others) is False


def test_a_report_that_jumps_over_rungs_is_judged_at_each():
    # step 10 crosses rungs 3 and 9 at once; at rung 9 there are 3 scores (0.8, 0.2, own) -> only the best
    others = TrialHistory.of([curve(1, [(1, 0.5), (3, 0.6), (9, 0.8)]), curve(2, [(1, 0.1), (3, 0.1), (9, 0.2)])])
    assert ASHA().should_prune(curve(9, [(1, 0.9), (10, 0.75)]), others) is True
    assert ASHA().should_prune(curve(9, [(1, 0.9), (10, 0.85)]), others) is False


def test_bootstrap_count_stops_the_first_trials_at_each_rung():
    assert ASHA(bootstrap_count=2).should_prune(curve(9, [(1, 0.9)]), history(0.1)) is True   # 2 at the rung
    assert ASHA(bootstrap_count=2).should_prune(curve(9, [(1, 0.9)]), history(0.1, 0.2)) is False


def test_nan_is_stopped_at_the_next_rung():
    assert ASHA().should_prune(curve(9, [(1, -math.inf)]), TrialHistory.of([])) is True
    assert ASHA().should_prune(curve(9, [(1, 0.5), (2, -math.inf)]), TrialHistory.of([])) is False


def test_min_early_stopping_rate_moves_the_first_rung():
    assert ASHA(min_early_stopping_rate=1).should_prune(curve(9, [(1, 0.0)]), history(0.9)) is False
    assert ASHA(min_early_stopping_rate=1).should_prune(
        curve(9, [(1, 0.0), (3, 0.0)]), TrialHistory.of([curve(1, [(3, 0.9)])])) is True


def test_bad_options_and_registration():
    with pytest.raises(ConfigError, match=r"asha: reduction_factor must be an integer >= 2"):
        ASHA(reduction_factor=1)
    with pytest.raises(ConfigError, match=r"asha: min_resource must be an integer >= 1 \(the step of the first rung\)"):
        ASHA(min_resource=0)
    with pytest.raises(ConfigError, match="asha: bootstrap_count must be an integer >= 0"):
        ASHA(bootstrap_count=True)
    p = nas_core.create("pruner", "asha", reduction_factor=4)
    assert isinstance(p, ASHA) and p.rung_step(1) == 4

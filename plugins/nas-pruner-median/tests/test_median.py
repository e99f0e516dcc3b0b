"""The median stopping rule on hand-made curves: exact decisions (NNI's Medianstop semantics)."""
from __future__ import annotations

import pytest

import nas_core
from nas_core.errors import ConfigError
from nas_core.pruning import LearningCurve, TrialHistory
from nas_pruner_median import MedianStop


def curve(tid, scores, status="running", start=1):
    return LearningCurve.of(tid, [(start + i, s) for i, s in enumerate(scores)], status)


# running averages of the completed trials (exact in binary): A 0.25 0.5 0.5 0.5 | B 0.5 0.75 0.75 0.75 |
# C 0.125 0.125 0.125 (ends at step 3)
HISTORY = TrialHistory.of([
    curve(1, [0.25, 0.75, 0.5, 0.5], "completed"),
    curve(2, [0.5, 1.0, 0.75, 0.75], "completed"),
    curve(3, [0.125, 0.125, 0.125], "completed"),
    curve(4, [0.9, 0.9, 0.9, 0.9, 0.9], "running"),  # not completed: never counts
    curve(5, [0.9, 0.9], "pruned"),
])


@pytest.mark.parametrize("scores, expected", [
    ([0.0, 0.49], True),    # step 2: median of the averages (0.125, 0.5, 0.75) is 0.5 (A's last score is 0.75)
    ([0.0, 0.50], False),   # equal to the median: not strictly worse
    ([0.6, 0.20], False),   # the best score so far counts, not the last
    ([0.1, 0.1, 0.1, 0.49], True),   # step 4: only A and B reach it; lower median of (0.5, 0.75) is 0.5
    ([0.1, 0.1, 0.1, 0.50], False),
    ([0.0], True),          # step 1: median of (0.125, 0.25, 0.5) is 0.25
    ([0.25], False),
])
def test_decisions(scores, expected):
    assert MedianStop().should_prune(curve(9, scores), HISTORY) is expected


def test_no_completed_trial_reaching_the_step_never_stops():
    assert MedianStop().should_prune(curve(9, [0.0] * 5), HISTORY) is False  # nobody completed step 5
    assert MedianStop().should_prune(curve(9, [0.0]), TrialHistory.of([curve(1, [0.9], "running")])) is False


def test_start_step():
    assert MedianStop(start_step=3).should_prune(curve(9, [0.0, 0.0]), HISTORY) is False
    assert MedianStop(start_step=3).should_prune(curve(9, [0.0, 0.0, 0.0]), HISTORY) is True


def test_minimised_objective_uses_the_upper_median_of_raw_values_as_nni():
    # losses 1, 2, 3, 4 at step 1 are scores -1..-4; NNI's median for minimize is sorted[4 // 2] = 3
    history = TrialHistory.of([curve(i, [-float(i)], "completed") for i in (1, 2, 3, 4)])
    assert MedianStop().should_prune(curve(9, [-3.0]), history) is False
    assert MedianStop().should_prune(curve(9, [-3.5]), history) is True


def test_bad_options_and_registration():
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ConfigError, match="median: start_step must be an integer >= 0"):
            MedianStop(start_step=bad)
    assert isinstance(nas_core.create("pruner", "median", start_step=2), MedianStop)

"""Optuna's pruners on hand-made curves: the decisions Optuna makes on the same values."""
from __future__ import annotations

import pickle

import pytest

import nas_core
from nas_core.errors import ConfigError
from nas_core.pruning import LearningCurve, TrialHistory
from nas_pruner_optuna import OptunaMedian, OptunaPercentile

# step-2 values of the completed trials: 0.5, 0.9, 0.6 (median 0.6); running and pruned trials do not count
HISTORY = TrialHistory.of([
    LearningCurve.of(1, [(1, 0.4), (2, 0.5)], "completed"),
    LearningCurve.of(2, [(1, 0.8), (2, 0.9)], "completed"),
    LearningCurve.of(3, [(1, 0.3), (2, 0.6)], "completed"),
    LearningCurve.of(4, [(1, 0.0), (2, 0.0)], "pruned"),
    LearningCurve.of(5, [(1, 0.99), (2, 0.99)], "running"),
])


@pytest.mark.parametrize("points, expected", [
    ([(1, 0.1), (2, 0.55)], True),    # best so far 0.55 < median 0.6
    ([(1, 0.65), (2, 0.2)], False),   # best so far 0.65
    ([(1, 0.1), (2, 0.6)], False),    # equal to the median
])
def test_median_decisions(points, expected):
    assert OptunaMedian(n_startup_trials=0).should_prune(LearningCurve.of(9, points), HISTORY) is expected


def test_startup_trials_and_percentile():
    low = LearningCurve.of(9, [(1, 0.1), (2, 0.55)])
    assert OptunaMedian().should_prune(low, HISTORY) is False  # Optuna's default: 5 completed trials first
    # the 75th percentile (maximising: keep the top 25 %) of 0.5, 0.9, 0.6 is 0.75
    assert OptunaPercentile(percentile=25.0, n_startup_trials=0).should_prune(
        LearningCurve.of(9, [(1, 0.1), (2, 0.74)]), HISTORY) is True
    assert OptunaPercentile(percentile=25.0, n_startup_trials=0).should_prune(
        LearningCurve.of(9, [(1, 0.1), (2, 0.76)]), HISTORY) is False


def test_options_are_checked_and_the_pruner_travels_to_workers():
    with pytest.raises(ConfigError, match=r"optuna-percentile: optuna.pruners.PercentilePruner refused the options"):
        OptunaPercentile(percentile=150.0)
    with pytest.raises(ConfigError, match="refused the options"):
        OptunaMedian(patience=3)
    copy = pickle.loads(pickle.dumps(OptunaMedian(n_startup_trials=0)))
    assert copy.should_prune(LearningCurve.of(9, [(1, 0.1), (2, 0.55)]), HISTORY) is True
    assert isinstance(nas_core.create("pruner", "optuna-median"), OptunaMedian)

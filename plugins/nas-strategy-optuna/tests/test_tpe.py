"""TPE (Optuna): the conformance kit, multi-objective search, option errors."""
from __future__ import annotations

import pytest

import nas_core
from nas_core import ConfigError, TrialResult
from nas_core.strategy.testing import (
    assert_no_equivalents,
    assert_no_repeats,
    assert_only_feasible,
    assert_reproducible,
    assert_resumes_exactly,
    assert_state_compact,
    toy_space,
    wide_space,
)
from nas_strategy_optuna import TPE


def make(**kw):
    return lambda: TPE(**{"n_startup_trials": 4, **kw})


def test_registered_by_name():
    assert nas_core.get_registry().get("strategy", "tpe").factory is TPE


@pytest.mark.slow
def test_conformance():
    assert_reproducible(make())
    assert_resumes_exactly(make(), rounds=10, resume_after=4)
    assert_no_repeats(make())


@pytest.mark.slow
def test_state_is_compact_feasible_only_and_no_equivalents():
    assert_state_compact(make(), short=10, long=40)
    asked = assert_only_feasible(make(), wide_space(), lambda s: s["w0"] == 7 and s["w1"] == 7, rounds=15)
    assert len(asked) == 30
    assert_no_equivalents(make())


def test_multi_objective_reads_the_metrics_and_skips_results_without_them():
    space = toy_space()
    tpe = TPE(objectives={"score": "max", "latency": "min"}, n_startup_trials=2, seed=0)
    tpe.setup(space)
    for i in range(6):
        s = tpe.ask()
        tpe.tell(s, TrialResult(0.5 + i / 100, {"latency": float(s["width"])}))
    s = tpe.ask()
    tpe.tell(s, TrialResult(0.9, {}))  # no latency: not learned from
    assert len(tpe.study.trials) - sum(t.state.name == "FAIL" for t in tpe.study.trials) == 6
    assert len(tpe.study.best_trials) >= 1


@pytest.mark.parametrize(
    "kwargs, message",
    [({"n_startup_trials": 0}, "n_startup_trials must be an integer >= 1"),
     ({"objectives": {"score": "up"}}, "objectives must be a non-empty mapping"),
     ({"multivariate": "yes"}, "multivariate must be True or False")],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TPE(**kwargs)

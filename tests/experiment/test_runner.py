"""The runner in process: outputs, constraints, failure isolation, seeding, budgets, resume guards."""
from __future__ import annotations

import json
import math

import pytest
import torch

from nas_core.errors import ConfigError
from nas_core.experiment import Experiment, Report, TrialStore

import nas_exp_testkit as kit


def _exp(tmp_path, trainer=None, strategy=None, **kw):
    kw.setdefault("max_trials", 6)
    kw.setdefault("progress", False)
    space = kit.toy_space()
    return Experiment(space, trainer or kit.CheapTrainer(), strategy or kit.HillClimb(),
                      profilers={"params": kit.ParamsCost(space)}, workdir=tmp_path / "run", **kw)


def test_run_writes_store_best_architecture_weights_and_plot(tmp_path):
    exp = _exp(tmp_path, constraints={"params": {"max": 400}}, seed=5)
    best = exp.run()
    wd = tmp_path / "run"
    trials = TrialStore(wd).trials()
    trained = [t for t in trials if t.status != "rejected"]
    assert len(trained) == 6
    assert all(t.costs["params"] <= 400 for t in trained)
    assert all(t.status == "rejected" and t.costs["params"] > 400 and "params <= 400" in t.error
               for t in trials if t.status == "rejected")
    assert best.score == max(t.score for t in trained) and best.metrics["accuracy"] == best.score
    assert json.loads((wd / "best_architecture.json").read_text()) == best.sample
    frozen = exp.space.freeze(best.sample)
    frozen.load_state_dict(torch.load(wd / "best_model.pt"))  # the frozen best model's weights fit
    assert (wd / "pareto.png").stat().st_size > 1000
    summary = json.loads((wd / "summary.json").read_text())
    assert summary["best"]["id"] == best.id and summary["trials"]["succeeded"] == 6
    # every trial was told once, in order; the store holds the one state after the last tell
    assert sorted(t.told for t in trials) == list(range(1, len(trials) + 1))
    assert exp.store.resume_point().state["strategy"]["told"] == len(trials)  # Chain(HillClimb, Filter)


def test_same_seed_same_trials_and_different_seed_differs(tmp_path):
    runs = []
    for i, seed in enumerate((7, 7, 8)):
        _exp(tmp_path / str(i), seed=seed).run()
        runs.append([(t.sample, t.metrics) for t in TrialStore(tmp_path / str(i) / "run").trials()])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_failing_and_nan_trials_are_recorded_and_the_search_goes_on(tmp_path):
    exp = _exp(tmp_path, trainer=kit.FaultyTrainer(), strategy=kit.ToyRandom(), max_trials=12, seed=0)
    best = exp.run()
    trials = exp.store.trials()
    assert len(trials) == 12  # the whole space: the search went on after every failure
    for t in trials:
        if t.sample["width"] == 4:
            assert t.status == "failed" and t.error.startswith("ValueError: width 4 is not supported")
        elif t.sample["width"] == 8 and t.sample["act"] == "tanh":
            assert t.status == "failed" and "accuracy = nan" in t.error
        else:
            assert t.status == "succeeded" and math.isfinite(t.score)
    assert best is not None and best.sample["width"] in (8, 16)


def test_out_of_memory_is_a_failed_trial(tmp_path):
    exp = _exp(tmp_path, trainer=kit.OOMTrainer(), max_trials=2)
    assert exp.run() is None
    trials = exp.store.trials()
    assert [t.status for t in trials] == ["failed", "failed"]
    assert trials[0].error.startswith("out of memory: OutOfMemoryError: CUDA out of memory")
    assert not (tmp_path / "run" / "best_architecture.json").exists()


def test_trainer_metric_bound_marks_trials_infeasible(tmp_path):
    exp = _exp(tmp_path, constraints={"accuracy": {"min": 0.7}}, max_trials=8, strategy=kit.ToyRandom())
    best = exp.run()
    trials = exp.store.trials()
    low = [t for t in trials if t.metrics["accuracy"] < 0.7]
    assert low and all(not t.feasible and "accuracy >= 0.7" in t.error for t in low)
    assert best.metrics["accuracy"] >= 0.7


def test_min_objective_scores_are_negated(tmp_path):
    exp = _exp(tmp_path, objectives={"params": "min", "accuracy": "max"}, strategy=kit.ToyRandom(), max_trials=12)
    best = exp.run()
    assert best.costs["params"] == min(t.costs["params"] for t in exp.store.trials())
    assert best.score == -best.costs["params"]


def test_time_budget_stops_the_search(tmp_path):
    exp = _exp(tmp_path, trainer=kit.CheapTrainer(sleep=0.2), max_trials=None, max_duration=0.5,
               strategy=kit.ToyRandom())
    exp.run()
    assert 1 <= exp.store.count() <= 5


def test_rerun_after_completion_resumes_and_extends(tmp_path):
    _exp(tmp_path, max_trials=4, seed=2).run()
    first = [(t.id, t.sample) for t in TrialStore(tmp_path / "run").trials()]
    _exp(tmp_path, max_trials=7, seed=2).run()  # a bigger budget continues the same search
    after = [(t.id, t.sample) for t in TrialStore(tmp_path / "run").trials()]
    _exp(tmp_path / "fresh", max_trials=7, seed=2).run()
    fresh = [(t.id, t.sample) for t in TrialStore(tmp_path / "fresh" / "run").trials()]
    assert after[:len(first)] == first and after == fresh


def test_different_experiment_in_same_folder_is_refused(tmp_path):
    _exp(tmp_path, max_trials=2, seed=1).run()
    with pytest.raises(ConfigError, match="holds a different experiment .*seed"):
        _exp(tmp_path, max_trials=2, seed=2).run()
    exp = _exp(tmp_path, max_trials=2, seed=2, overwrite=True)
    exp.run()
    assert exp.store.count() == 2


def test_python_api_errors(tmp_path):
    with pytest.raises(ConfigError, match="no budget"):
        _exp(tmp_path, max_trials=None)
    with pytest.raises(ConfigError, match="constraints.depth: 'depth' is neither a metric nor a label"):
        _exp(tmp_path, constraints={"depth": {"max": 2}})
    with pytest.raises(ConfigError, match="min \\(5\\) is larger than max \\(1\\)"):
        _exp(tmp_path, constraints={"params": {"min": 5, "max": 1}})
    with pytest.raises(ConfigError, match="max_trials must be an integer >= 1"):
        _exp(tmp_path, max_trials=0)
    with pytest.raises(ConfigError, match="needs a dummy input"):
        Experiment(kit.toy_space(), kit.CheapTrainer(), kit.ToyRandom(), profilers={"flops": "flops"}, max_trials=1)


def test_report_reads_objectives_and_pareto(tmp_path):
    exp = _exp(tmp_path, strategy=kit.ToyRandom(), max_trials=12)
    exp.run()
    report = Report(tmp_path / "run")
    assert [(o.metric, o.direction) for o in report.objectives] == [("accuracy", "max"), ("params", "min")]
    front = report.pareto
    ok = [t for t in report.trials if t.status == "succeeded"]
    for t in ok:  # nothing outside the set dominates a member
        dominated = any(o.metrics["accuracy"] >= t.metrics["accuracy"] and o.costs["params"] <= t.costs["params"]
                        and (o.metrics["accuracy"], o.costs["params"]) != (t.metrics["accuracy"], t.costs["params"])
                        for o in ok)
        assert (t in front) == (not dominated)
    with pytest.raises(ConfigError, match="has no trials.db"):
        Report(tmp_path)

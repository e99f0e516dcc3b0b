"""The reporting API (nas_core.pruning.report) and the pruner option's validation."""
from __future__ import annotations

import math

import pytest

import nas_core
from nas_core.errors import ConfigError, NasError
from nas_core.experiment import ExperimentConfig, TrialStore
from nas_core.pruning import (
    CurveStore, LearningCurve, Pruner, ReportError, TrialHistory, TrialPruned, TrialReporting, current_reporter,
    report, reporting, resolve_pruner,
)

from nas_core.pruning import testing as kit


@pytest.fixture
def db(tmp_path):
    TrialStore(tmp_path).close()
    return str(tmp_path / "trials.db")


def test_report_outside_a_trial_does_nothing():
    assert current_reporter() is None
    report(1, 0.5)  # no error, nothing stored anywhere


def test_reports_are_stored_with_every_metric_and_the_curve_status(db):
    with reporting(7, TrialReporting(db, "accuracy")) as rep:
        assert current_reporter() is rep
        report(1, {"accuracy": 0.25, "loss": 2.0})
        report(3, 0.5)
    assert current_reporter() is None
    with CurveStore(db) as curves:
        points = curves.points(7)
        assert [(p.step, p.value) for p in points] == [(1, 0.25), (3, 0.5)]
        assert points[0].metrics == {"accuracy": 0.25, "loss": 2.0} and points[1].metrics == {"accuracy": 0.5}
        assert curves.status(7) == "completed"
        assert curves.curves() == [LearningCurve(7, (1, 3), (0.25, 0.5), "completed")]


def test_bad_reports_name_the_mistake(db):
    with reporting(1, TrialReporting(db, "accuracy")):
        report(2, 0.5)
        with pytest.raises(ReportError, match=r"report\(step=2, \.\.\.\) after step 2: steps must increase"):
            report(2, 0.6)
        with pytest.raises(ReportError, match="the step must be an integer >= 0"):
            report(2.5, 0.6)
        with pytest.raises(ReportError, match="the objective 'accuracy' is missing"):
            report(3, {"loss": 0.1})
        with pytest.raises(ReportError, match="metric 'accuracy' is 'high'; reported values must be numbers"):
            report(3, {"accuracy": "high"})
    assert isinstance(ReportError("x"), NasError) and isinstance(ReportError("x"), ValueError)


def test_a_failed_trial_ends_its_curve_failed_and_a_retry_starts_a_fresh_curve(db):
    with pytest.raises(RuntimeError):
        with reporting(4, TrialReporting(db, "accuracy")):
            report(1, 0.1)
            report(2, 0.2)
            raise RuntimeError("worker lost")
    with CurveStore(db) as curves:
        assert curves.status(4) == "failed" and curves.steps_done() == {4: 2}
    with reporting(4, TrialReporting(db, "accuracy")):
        report(1, 0.3)
    with CurveStore(db) as curves:
        assert [(p.step, p.value) for p in curves.points(4)] == [(1, 0.3)] and curves.status(4) == "completed"


class _StopAt2(Pruner):
    def should_prune(self, curve, history):
        return curve.last_step >= 2


def test_the_pruner_stops_at_its_decision_even_when_the_trainer_swallows_trial_pruned(db):
    spec = TrialReporting(db, "accuracy", pruner=_StopAt2())
    with pytest.raises(TrialPruned) as info:
        with reporting(5, spec):
            report(1, 0.1)
            try:
                report(2, {"accuracy": 0.2, "loss": 1.5})
            except TrialPruned:
                pass  # a trainer that catches everything
            with pytest.raises(TrialPruned):
                report(3, 0.3)  # it is stopped again at the next report
    assert info.value.step == 2 and info.value.metrics == {"accuracy": 0.2, "loss": 1.5}
    with CurveStore(db) as curves:
        assert curves.status(5) == "pruned" and curves.steps_done() == {5: 2}


def test_a_worker_without_the_experiment_folder_gets_a_clear_error(tmp_path):
    with reporting(1, TrialReporting(str(tmp_path / "elsewhere" / "trials.db"), "accuracy")):
        with pytest.raises(ConfigError, match="not reachable from this worker.*shared with the workers"):
            report(1, 0.5)


def test_learning_curve_helpers():
    c = LearningCurve.of(1, [(1, 0.2), (2, 0.6), (4, 0.4)], "completed")
    assert (c.last_step, c.last_score, c.best_score) == (4, 0.4, 0.6)
    assert c.mean_until(2) == pytest.approx(0.4) and c.mean_until(3) == pytest.approx(0.4)
    assert c.score_at(3) == 0.4 and c.score_at(5) is None and c.reaches(4) and not c.reaches(5)
    assert LearningCurve.of(2, []).best_score == -math.inf
    with pytest.raises(ValueError, match="steps must strictly increase"):
        LearningCurve.of(3, [(2, 0.1), (2, 0.2)])
    hist = TrialHistory.of([LearningCurve.of(5, [(1, 0.1)]), c])
    assert [h.trial_id for h in hist.curves] == [1, 5] and hist.completed == [c]


# -- the pruner option ------------------------------------------------------------------------


def test_resolve_pruner_by_name_with_options_and_by_object(nas_plugin):
    nas_plugin(kit.KitPlugin())
    assert resolve_pruner(None) is None
    assert isinstance(resolve_pruner("stop-narrow"), kit.StopNarrow)
    p = resolve_pruner({"name": "stop-narrow", "below": 0.1, "at_step": 3})
    assert (p.below, p.at_step) == (0.1, 3)
    obj = kit.StopNarrow()
    assert resolve_pruner(obj) is obj
    with pytest.raises(ConfigError, match=r"pruner: no pruner named 'stop-narow'\. Did you mean 'stop-narrow'"):
        resolve_pruner("stop-narow")
    with pytest.raises(ConfigError, match=r"pruner 'stop-narrow' does not accept the options \['patience'\].*"
                                          r"Its options: \(below.*at_step"):
        resolve_pruner({"name": "stop-narrow", "patience": 3})
    with pytest.raises(ConfigError, match="pruner needs a name: a registered pruner \\(stop-narrow\\)"):
        resolve_pruner({"reduction_factor": 3})
    with pytest.raises(ConfigError, match="pruner must be a pruner name .* got int 3"):
        resolve_pruner(3)


def test_a_pruner_that_cannot_travel_to_the_workers_is_refused():
    class Local(Pruner):  # defined in a function: not picklable
        def should_prune(self, curve, history):
            return False

    with pytest.raises(ConfigError, match="cannot be pickled.*define the class at module level"):
        resolve_pruner(Local())


def test_config_file_pruner_section_is_validated_and_built(nas_plugin, tmp_path):
    nas_plugin(kit.KitPlugin())
    base = {"space": {"class": "nas_core.pruning.testing:WidthSpace"}, "strategy": {"name": "fixed", "widths": [3, 1]},
            "trainer": {"name": "curve"}, "experiment": {"max_trials": 2, "workdir": str(tmp_path / "run")}}
    with pytest.raises(ConfigError, match=r"pruner\.name: no pruner named 'median-stop'"):
        ExperimentConfig({**base, "pruner": {"name": "median-stop"}}).validate()
    with pytest.raises(ConfigError, match=r"pruner\.name is missing; name a registered pruner \(stop-narrow\)"):
        ExperimentConfig({**base, "pruner": {"below": 0.2}}).validate()
    with pytest.raises(ConfigError, match=r"\[pruner\] must be a table, got str 'asha'"):
        ExperimentConfig({**base, "pruner": "asha"}).validate()
    with pytest.raises(ConfigError, match=r"pruner: pruner 'stop-narrow' does not accept the options \['bellow'\]"):
        ExperimentConfig({**base, "pruner": {"name": "stop-narrow", "bellow": 0.2}}).build(progress=False)
    exp = ExperimentConfig({**base, "pruner": {"name": "stop-narrow", "below": 0.2}}).build(progress=False)
    assert isinstance(exp.pruner, kit.StopNarrow) and exp.pruner.below == 0.2
    exp.run()
    assert [t.status for t in exp.store.trials()] == ["succeeded", "pruned"]

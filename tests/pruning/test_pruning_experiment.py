"""A pruner stops trials inside an experiment: status, partial result, stored curves."""
from __future__ import annotations

import pytest

from nas_core.experiment import Experiment, ProcessPoolExecutor, TrialStore
from nas_core.interfaces import PRUNED, SUCCEEDED
from nas_core.pruning import CurveStore

from nas_core.pruning import testing as kit


def _experiment(tmp_path, widths, pruner, executor=None, **kw):
    strategy = kit.Fixed(widths)
    exp = Experiment(kit.WidthSpace, kit.CurveTrainer(epochs=6), strategy, max_trials=len(widths), pruner=pruner,
                     workdir=tmp_path / "run", progress=False, executor=executor, **kw)
    return exp, strategy


def test_a_pruned_trial_is_recorded_pruned_with_its_curve_and_the_strategy_is_told_partial(tmp_path):
    exp, strategy = _experiment(tmp_path, [2, 5, 1, 6], kit.StopNarrow(below=0.3, at_step=2))
    best = exp.run()
    store = TrialStore(tmp_path / "run")
    status = {t.sample["width"]: t.status for t in store.trials()}
    assert status == {2: PRUNED, 5: SUCCEEDED, 1: PRUNED, 6: SUCCEEDED}
    assert best.sample == {"width": 6} and best.metrics["accuracy"] == kit.accuracy_at(6, 6)
    # the strategy is told the pruned trials' last reports, marked partial
    told = {s["width"]: r for s, r in strategy.told}
    assert told[2].status == PRUNED and told[2].partial is True
    assert told[2].score == kit.accuracy_at(2, 2) and told[2].metrics["loss"] == 1 - kit.accuracy_at(2, 2)
    assert told[5].status == SUCCEEDED and told[5].partial is False and told[5].score == kit.accuracy_at(5, 6)
    # the store keeps the score of the pruned trial and every curve, with how it ended
    pruned = next(t for t in store.trials() if t.sample == {"width": 1})
    assert pruned.score == kit.accuracy_at(1, 2) and pruned.metrics["accuracy"] == kit.accuracy_at(1, 2)
    with CurveStore(tmp_path / "run") as curves:
        assert [p.step for p in curves.points(pruned.id)] == [1, 2]
        assert [p.value for p in curves.points(pruned.id)] == [kit.accuracy_at(1, 1), kit.accuracy_at(1, 2)]
        assert curves.status(pruned.id) == "pruned"
        assert curves.steps_done() == {1: 2, 2: 6, 3: 2, 4: 6}
        assert [c.status for c in curves.curves()] == ["pruned", "completed", "pruned", "completed"]
    summary = (tmp_path / "run" / "summary.json").read_text()
    assert '"pruned": 2' in summary


def test_curves_are_stored_without_a_pruner_and_a_minimised_objective_is_negated(tmp_path):
    exp, _ = _experiment(tmp_path, [3, 4], None, objectives={"loss": "min"})
    exp.run()
    with CurveStore(tmp_path / "run") as curves:
        assert curves.steps_done() == {1: 6, 2: 6}
        (c3, c4) = curves.curves(maximize=False)
        assert c3.scores[0] == pytest.approx(-(1 - kit.accuracy_at(3, 1)))
        assert c3.status == c4.status == "completed"


def test_the_pruner_sees_the_other_trials_curves(tmp_path):
    # width 4 completes first; 2 and 3 are below its step-1 score, 6 beats it
    exp, strategy = _experiment(tmp_path, [4, 2, 6, 3], kit.BetterThanAllFinished())
    exp.run()
    assert [(s["width"], r.status) for s, r in strategy.told] == [
        (4, SUCCEEDED), (2, PRUNED), (6, SUCCEEDED), (3, PRUNED)]


@pytest.mark.slow
def test_reports_and_pruning_work_in_worker_processes(tmp_path):
    pool = ProcessPoolExecutor(2)
    try:
        exp, strategy = _experiment(tmp_path, [2, 5, 1, 6], kit.StopNarrow(below=0.3, at_step=2), executor=pool)
        exp.run()
    finally:
        pool.shutdown()
    told = {s["width"]: (r.status, r.partial) for s, r in strategy.told}
    assert told == {2: (PRUNED, True), 5: (SUCCEEDED, False), 1: (PRUNED, True), 6: (SUCCEEDED, False)}
    with CurveStore(tmp_path / "run") as curves:
        assert sorted(curves.steps_done().values()) == [2, 2, 6, 6]

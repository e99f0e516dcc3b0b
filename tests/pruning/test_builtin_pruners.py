"""The first-party pruners by registry name in an experiment: the trials they stop, and where."""
from __future__ import annotations

import pytest

from nas_core.experiment import Experiment
from nas_core.pruning import CurveStore

import pruning_kit as kit

# every width's curve is above the narrower widths' at every epoch: accuracy_at(w, e) = w/10 * (1 - 0.5**e)
WIDTHS = [3, 1, 6, 2, 5, 4]


@pytest.mark.parametrize("pruner, expected", [
    # rungs at epochs 1, 3, 9: at epoch 1 the k-th trial goes on only if in the top max(k // 3, 1)
    ("asha", {3: 9, 1: 1, 6: 9, 2: 1, 5: 1, 4: 1}),
    # at epoch 1: width 1 < median(0.15); 2 < lower median(0.15, 0.3); 4 < median(0.15, 0.25, 0.3)
    ("median", {3: 9, 1: 1, 6: 9, 2: 1, 5: 9, 4: 1}),
])
def test_pruner_by_name_stops_the_expected_trials(tmp_path, pruner, expected):
    strategy = kit.Fixed(WIDTHS)
    exp = Experiment(kit.WidthSpace, kit.CurveTrainer(epochs=9), strategy, max_trials=len(WIDTHS), pruner=pruner,
                     workdir=tmp_path / "run", progress=False)
    exp.run()
    with CurveStore(tmp_path / "run") as curves:
        done = curves.steps_done()
    assert {t.sample["width"]: done[t.id] for t in exp.store.trials()} == expected
    assert {s["width"]: r.status for s, r in strategy.told} == {
        w: "succeeded" if n == 9 else "pruned" for w, n in expected.items()}

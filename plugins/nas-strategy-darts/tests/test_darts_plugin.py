"""DARTS against the one-shot kit, plus what only DARTS does: the Gumbel-softmax variant, per-epoch probabilities
moved by a penalty, the argmax export and a penalty no architecture meets."""
import pytest
import torch

from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.export import Budget, NoFeasibleExportError, checked_export
from nas_core.oneshot.testing import (
    DifferentiableOneShotKit, MacsProfiler, assert_epochs_stored, assert_penalty_moves_to_cheaper, fresh_space,
    middle_budget,
)
from nas_strategy_darts import DARTS
from nas_trainer_classification import ClassificationTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


class TestDartsKit(DifferentiableOneShotKit):
    name = "darts"


def test_gumbel_penalty_alone_moves_probability_to_cheaper_candidates():
    assert_penalty_moves_to_cheaper(lambda **options: DARTS(gumbel=True, **options))


def test_probabilities_are_stored_per_epoch_and_the_penalty_moves_them(tmp_path):
    macs = MacsProfiler(fresh_space(), torch.zeros(1, 1, 8, 8))
    strategy = DARTS(epochs=3, penalty=ExpectationProfilerPenalty(macs, baseline=1.0), arch_lr=0.2)
    epochs = assert_epochs_stored(strategy, tmp_path)
    widths = [e["probabilities"]["width"][0] for e in epochs]  # toward the cheapest width
    assert widths == sorted(widths) and widths[-1] > widths[0] + 0.05
    assert epochs[-1]["probabilities"] == strategy.probabilities()
    assert epochs[0]["expected_cost"] > epochs[-1]["expected_cost"]


def test_argmax_mode_and_no_feasible_candidate():
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    budget = middle_budget(space, prof)
    trainer = ClassificationTrainer(dataset="digits", lr=0.005, seed=0)
    strategy = DARTS(epochs=1, penalty=ExpectationProfilerPenalty(prof, budget), export_mode="argmax")
    strategy.fit(space, trainer)
    assert strategy.export_report.method == "argmax" and strategy.export() == strategy.supernet.export()
    soft = DARTS(epochs=1, penalty=ExpectationProfilerPenalty(prof, 1.0))  # no architecture is that cheap
    with pytest.warns(UserWarning, match="cheapest of the 8 most probable"):
        soft.fit(space, trainer)
    assert soft.export_report.method.startswith("checked (nothing within the budget")
    with pytest.raises(NoFeasibleExportError, match="fits the budget"):
        checked_export(strategy.supernet, [], Budget(prof.profile, 1.0), device=torch.device("cpu"),
                       generator=torch.Generator().manual_seed(0), likely=[space.space.default()], sampled=[])

"""Acceptance on scikit-learn's digits: the DARTS export beats the median random architecture."""
import pytest
import torch

from nas_core.oneshot.testing import MacsProfiler, fresh_space, median_random_accuracy, retrained_accuracy
from nas_strategy_darts import DARTS
from nas_trainer_classification import ClassificationTrainer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("nas_one_torch_thread")]


def test_darts_export_beats_the_median_random_architecture():
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    trainer = ClassificationTrainer(dataset="digits", epochs=2, lr=0.005, seed=0)
    median = median_random_accuracy(space, trainer)
    strategy = DARTS(epochs=2, arch_lr=3e-3)
    strategy.fit(space, ClassificationTrainer(dataset="digits", lr=0.005, seed=0, batch_size=96))
    sample = strategy.export()
    acc = retrained_accuracy(space, sample, trainer)
    cost = prof.profile(sample)
    print(f"\nDARTS: exported {sample} -> retrained accuracy {acc:.4f} (median random {median:.4f}), {cost:g} MACs")
    assert acc > median

"""Acceptance on scikit-learn's digits: ProxylessNAS lands within ten percent of its FLOPs target, and its export
beats the median random architecture."""
import pytest
import torch

from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.testing import MacsProfiler, fresh_space, median_random_accuracy, retrained_accuracy
from nas_strategy_proxyless import ProxylessNAS
from nas_trainer_classification import ClassificationTrainer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("nas_one_torch_thread")]

# the cost of {width 8, op1 conv3x3, op2 conv3x3}: strictly inside the space's range (2944 to 523776 MACs)
TARGET = 51968.0


def test_proxyless_lands_within_ten_percent_of_its_flops_target():
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    trainer = ClassificationTrainer(dataset="digits", epochs=2, lr=0.005, seed=0)
    median = median_random_accuracy(space, trainer)
    penalty = ExpectationProfilerPenalty(prof, TARGET, scale=10.0, nonlinear="absolute")
    strategy = ProxylessNAS(epochs=6, arch_lr=0.1, penalty=penalty, entropy_weight=3.0)
    strategy.fit(space, ClassificationTrainer(dataset="digits", lr=0.005, seed=0))
    sample = strategy.export()
    cost = prof.profile(sample)
    acc = retrained_accuracy(space, sample, trainer)
    print(f"\nProxylessNAS: exported {sample} -> retrained accuracy {acc:.4f} (median random {median:.4f}), {cost:g} MACs")
    print(f"ProxylessNAS landing error: {abs(cost - TARGET) / TARGET:.2%} of {TARGET:g} MACs")
    assert abs(cost - TARGET) <= 0.1 * TARGET
    assert acc > median

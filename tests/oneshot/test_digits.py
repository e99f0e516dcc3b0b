"""Acceptance on scikit-learn's digits: exports beat the median random architecture, ProxylessNAS lands on its
FLOPs target, ENAS never trains outside its range filter, and the same seed exports the same architecture."""
import statistics

import pytest
import torch

from nas_core.experiment.trial import reset_weights
from nas_core.oneshot import ExpectationProfilerPenalty, RangeProfilerFilter, Supernet
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler
from nas_core.threads import torch_threads
from nas_strategy_darts import DARTS
from nas_strategy_enas import ENAS
from nas_strategy_proxyless import ProxylessNAS
from nas_trainer_classification import ClassificationTrainer

pytestmark = pytest.mark.slow

RETRAIN_EPOCHS = 2
N_RANDOM = 5
# the cost of {width 8, op1 conv3x3, op2 conv3x3}: strictly inside the space's range (2944 to 523776 MACs)
TARGET = 51968.0


def _space():
    torch.manual_seed(0)
    return DigitsOneShotSpace()


def _retrain(space, sample, trainer):
    torch.manual_seed(0)
    model = space.freeze(sample)
    reset_weights(model)
    return trainer.fit(model)["accuracy"]


@pytest.fixture(scope="module")
def digits():
    with torch_threads(1):  # tiny networks: one intra-op thread is fastest
        space = _space()
        prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
        trainer = ClassificationTrainer(dataset="digits", epochs=RETRAIN_EPOCHS, lr=0.005, seed=0)
        randoms = [_retrain(space, space.random(1000 + i), trainer) for i in range(N_RANDOM)]
    print(f"\nrandom architectures, retrained: {sorted(randoms)}")
    return space, prof, trainer, statistics.median(randoms)


def _report(name, sample, acc, median, cost):
    print(f"\n{name}: exported {sample} -> retrained accuracy {acc:.4f} (median random {median:.4f}), {cost:g} MACs")


def test_darts_export_beats_the_median_random_architecture(digits):
    space, prof, trainer, median = digits
    strategy = DARTS(epochs=2, arch_lr=3e-3)
    strategy.fit(space, ClassificationTrainer(dataset="digits", lr=0.005, seed=0, batch_size=96))
    sample = strategy.export()
    acc = _retrain(space, sample, trainer)
    _report("DARTS", sample, acc, median, prof.profile(sample))
    assert acc > median


def test_enas_with_a_range_filter_never_trains_outside_it(digits, monkeypatch):
    space, prof, trainer, median = digits
    lo, hi = 20_000.0, 300_000.0
    seen = []
    real = Supernet.set_sample

    def spy(self, sample):
        seen.append(dict(sample))
        return real(self, sample)

    monkeypatch.setattr(Supernet, "set_sample", spy)
    filt = RangeProfilerFilter(prof, lo, hi)
    strategy = ENAS(epochs=3, ctrl_steps=10, filter=filt)
    strategy.fit(space, ClassificationTrainer(dataset="digits", lr=0.005, seed=0))
    monkeypatch.undo()
    costs = [prof.profile(s) for s in seen]
    assert len(seen) > 40 and filt.rejected > 0  # it did meet illegal samples, and redrew them
    assert all(lo <= c <= hi for c in costs), max(costs)
    sample = strategy.export()
    assert lo <= prof.profile(sample) <= hi
    acc = _retrain(space, sample, trainer)
    _report("ENAS", sample, acc, median, prof.profile(sample))
    assert acc > median


def test_proxyless_lands_within_ten_percent_of_its_flops_target(digits):
    space, prof, trainer, median = digits
    penalty = ExpectationProfilerPenalty(prof, TARGET, scale=10.0, nonlinear="absolute")
    strategy = ProxylessNAS(epochs=6, arch_lr=0.1, penalty=penalty, entropy_weight=3.0)
    strategy.fit(space, ClassificationTrainer(dataset="digits", lr=0.005, seed=0))
    sample = strategy.export()
    cost = prof.profile(sample)
    acc = _retrain(space, sample, trainer)
    _report("ProxylessNAS", sample, acc, median, cost)
    print(f"ProxylessNAS landing error: {abs(cost - TARGET) / TARGET:.2%} of {TARGET:g} MACs")
    assert abs(cost - TARGET) <= 0.1 * TARGET
    assert acc > median


@pytest.mark.parametrize("make", [lambda: DARTS(epochs=1, arch_lr=0.01, seed=3),
                                  lambda: ENAS(epochs=1, ctrl_steps=5, seed=3),
                                  lambda: ProxylessNAS(epochs=1, arch_lr=0.05, seed=3)], ids=["darts", "enas", "proxyless"])
def test_same_seed_same_export(make, digits):
    x, y = digits[2]._data()[0][:320]
    trainer = ClassificationTrainer(train=(x, y), val=(x[:64], y[:64]), lr=0.005, seed=0, batch_size=64)
    a, b = make(), make()
    a.fit(_space(), trainer)
    b.fit(_space(), trainer)
    assert a.export() == b.export()
    if not isinstance(a, ENAS):
        assert all(torch.equal(x, y) for x, y in zip(a.supernet.arch_parameters(), b.supernet.arch_parameters()))

"""Acceptance on scikit-learn's digits: ENAS with a range filter never trains outside it, and its export beats the
median random architecture."""
import pytest
import torch

from nas_core.oneshot import RangeProfilerFilter, Supernet
from nas_core.oneshot.testing import MacsProfiler, fresh_space, median_random_accuracy, retrained_accuracy
from nas_strategy_enas import ENAS
from nas_trainer_classification import ClassificationTrainer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("nas_one_torch_thread")]


def test_enas_with_a_range_filter_never_trains_outside_it(monkeypatch):
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    trainer = ClassificationTrainer(dataset="digits", epochs=2, lr=0.005, seed=0)
    median = median_random_accuracy(space, trainer)
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
    acc = retrained_accuracy(space, sample, trainer)
    print(f"\nENAS: exported {sample} -> retrained accuracy {acc:.4f} (median random {median:.4f}), "
          f"{prof.profile(sample):g} MACs")
    assert acc > median

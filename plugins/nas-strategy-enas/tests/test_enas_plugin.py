"""ENAS against the one-shot kit, plus what only ENAS does: a controller (not logits) frozen by the warm-up, greedy
probabilities stored per epoch, and range filters."""
import pytest
import torch

from nas_core.oneshot import NoFeasibleSampleError, RangeProfilerFilter, SampleProfilerPenalty
from nas_core.oneshot.testing import (
    DigitsOneShotSpace, MacsProfiler, OneShotStrategyKit, ZeroLossTrainer, assert_epochs_stored,
)
from nas_strategy_enas import ENAS
from nas_trainer_classification import ClassificationTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


class TestEnasKit(OneShotStrategyKit):
    name = "enas"
    penalty_class = SampleProfilerPenalty
    options = {"ctrl_steps": 3}


def _snapshot(params):
    return [p.detach().clone() for p in params]


def test_enas_warmup_takes_no_controller_step():
    strategy = ENAS(epochs=3, warmup_epochs=2, ctrl_steps=3, seed=1)
    seen = []
    strategy.on_epoch = lambda epoch, epochs, info: seen.append(_snapshot(strategy.controller.parameters()))
    torch.manual_seed(0)
    strategy.fit(DigitsOneShotSpace(), ClassificationTrainer(dataset="digits", lr=0.005, seed=0))
    assert all(torch.equal(a, b) for a, b in zip(seen[0], seen[1]))
    assert not all(torch.equal(a, b) for a, b in zip(seen[1], seen[2]))
    assert [h["reward"] is None for h in strategy.history] == [True, True, False]


def test_probabilities_are_the_controllers_greedy_ones(tmp_path):
    strategy = ENAS(epochs=3)
    epochs = assert_epochs_stored(strategy, tmp_path)
    assert epochs[-1]["probabilities"] == dict(zip(strategy.supernet.arch.labels,
                                                   strategy.controller.greedy_probabilities()))


def test_filter_must_be_a_range_filter():
    with pytest.raises(TypeError, match="ENAS filter must be a RangeProfilerFilter"):
        ENAS(filter=42)


def test_range_filter_with_no_legal_sample_fails_after_patience():
    space = DigitsOneShotSpace()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    filt = RangeProfilerFilter(prof, 1.0, 2.0, patience=7)
    with pytest.raises(NoFeasibleSampleError, match=r"7 samples in a row fell outside \[1, 2\] MACs.*widen it"):
        ENAS(epochs=1, ctrl_steps=1, filter=filt).fit(space, ZeroLossTrainer())
    assert filt.rejected == 7


def test_seed_code_with_flops_profiler():
    from nas_profiler_flops import FlopsProfiler

    model_space, dummy_input = DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8)
    profiler = FlopsProfiler(model_space, dummy_input)
    filt = RangeProfilerFilter(profiler, 20e3, 300e3)
    strategy = ENAS(filter=filt, epochs=1, ctrl_steps=2)
    strategy.fit(model_space, ZeroLossTrainer(n=32))
    assert 20e3 <= profiler.profile(strategy.export()) <= 300e3

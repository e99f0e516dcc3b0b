"""The one-shot penalties and filters on the MACs of torch layers (so with the torch formula pack): exact
expectations, their forms, their argument errors, and a penalty that costs only what exceeds the budget (issue #19).
How each strategy takes them is tested with the strategy plugins (the kit in nas_core.oneshot.testing and each
plugin's own tests)."""
import itertools

import pytest
import torch

from nas_core import Profiler
from nas_core.oneshot import (
    ArchParameters, ExpectationProfilerPenalty, RangeProfilerFilter, SampleProfilerPenalty, Supernet,
)
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler


@pytest.fixture(scope="module")
def space_and_profiler():
    space = DigitsOneShotSpace()
    return space, MacsProfiler(space, torch.zeros(1, 1, 8, 8))


class TableProfiler(Profiler):
    """A profiler without expectation (a lookup that only answers single samples)."""

    unit = "ms"

    def profile(self, sample):
        return 1.0


def test_expectation_penalty_is_exact_and_differentiable(space_and_profiler):
    space, prof = space_and_profiler
    sn = Supernet(space)
    with torch.no_grad():
        for p in sn.arch_parameters():
            p.copy_(torch.randn(len(p)))
    probs = sn.arch.probs()
    pen = ExpectationProfilerPenalty(prof, 1e5, nonlinear="linear")
    loss = pen(torch.zeros(()), probs)
    brute = 0.0
    for s in space.enumerate():
        w = 1.0
        for l, v in s.items():
            w *= float(probs[l].detach()[space.space.choices[l].index(v)])
        brute += w * prof.profile(s)
    assert pen.last_cost == pytest.approx(brute, rel=1e-5)
    assert float(loss.detach()) == pytest.approx((brute - 1e5) / 1e5, rel=1e-4)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for l, p in zip(sn.arch.labels, sn.arch_parameters())
               if l != "skip")


def test_penalty_forms(space_and_profiler):
    _, prof = space_and_profiler
    cost = torch.tensor(150.0)
    assert float(ExpectationProfilerPenalty(prof, 100, 2.0).normalized(cost)) == pytest.approx(0.5)
    assert float(ExpectationProfilerPenalty(prof, 200).normalized(cost)) == 0.0  # positive: under budget is free
    assert float(ExpectationProfilerPenalty(prof, 200, nonlinear="absolute").normalized(cost)) == pytest.approx(0.25)
    sp = SampleProfilerPenalty(prof, 10_000, 0.5)
    sample = {"width": 16, "op1": "conv3x3", "kernel": 3, "op2": "conv3x3", "skip": [1]}
    over = (prof.profile(sample) - 10_000) / 10_000
    assert sp.shape_reward(0.9, sample) == pytest.approx(0.9 - 0.5 * over)
    assert SampleProfilerPenalty(prof, 10_000, 0.5, aggregate="mul").shape_reward(1.0, sample) == pytest.approx(1 - 0.5 * over)


def test_penalty_argument_errors(space_and_profiler):
    _, prof = space_and_profiler
    with pytest.raises(TypeError, match="TableProfiler has no expectation.*pass the model space"):
        ExpectationProfilerPenalty(TableProfiler(), 10)
    with pytest.raises(TypeError, match="needs a profiler"):
        ExpectationProfilerPenalty("flops", 10)
    with pytest.raises(ValueError, match="baseline must be a positive number"):
        ExpectationProfilerPenalty(prof, 0)
    with pytest.raises(ValueError, match="nonlinear must be one of"):
        SampleProfilerPenalty(prof, 1, nonlinear="square")
    with pytest.raises(ValueError, match="min .* is above max"):
        RangeProfilerFilter(prof, 10, 5)
    with pytest.raises(ValueError, match="needs min, max or both"):
        RangeProfilerFilter(prof)


def _space():
    torch.manual_seed(0)
    return DigitsOneShotSpace()


@pytest.fixture(scope="module")
def setup():
    space = _space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    costs = sorted(prof.profile(s) for s in itertools.islice(space.space.enumerate(), 0, None, 7))
    return space, prof, costs[len(costs) // 3]


def test_penalty_below_budget_has_zero_gradient(setup):
    space, prof, _ = setup
    arch = ArchParameters(Supernet(space).space, generator=torch.Generator().manual_seed(0))
    probs = arch.probs()
    expected = float(prof.expectation(probs).detach())
    for baseline, zero in ((expected * 1.5, True), (expected * 0.5, False)):
        arch.zero_grad()
        ExpectationProfilerPenalty(prof, baseline)(torch.zeros(()), arch.probs()).backward()
        grads = [p.grad for p in arch.parameters()]
        assert all(g is None or torch.all(g == 0) for g in grads) == zero
    pen = SampleProfilerPenalty(prof, 1e12)
    assert pen.shape_reward(0.5, space.space.default()) == 0.5  # far below the budget: the reward is untouched

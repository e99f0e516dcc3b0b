"""Penalties, filters and the strategies' argument errors."""
import itertools

import pytest
import torch

import nas_core
from nas_core import Profiler
from nas_core.oneshot import (
    ExpectationProfilerPenalty, NoFeasibleSampleError, RangeProfilerFilter, SampleProfilerPenalty, Supernet,
)
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler, ZeroLossTrainer
from nas_strategy_darts import DARTS
from nas_strategy_enas import ENAS
from nas_strategy_proxyless import HardwareLoss, ProxylessNAS


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


def test_wrong_penalty_kind_for_the_algorithm(space_and_profiler):
    _, prof = space_and_profiler
    with pytest.raises(TypeError, match="DARTS is differentiable and takes penalty=ExpectationProfilerPenalty"):
        DARTS(penalty=SampleProfilerPenalty(prof, 1e5))
    with pytest.raises(TypeError, match="ProxylessNAS is differentiable"):
        ProxylessNAS(penalty=SampleProfilerPenalty(prof, 1e5))
    with pytest.raises(TypeError, match="ENAS is sampling-based and takes penalty=SampleProfilerPenalty"):
        ENAS(penalty=ExpectationProfilerPenalty(prof, 1e5))
    with pytest.raises(TypeError, match="ENAS filter must be a RangeProfilerFilter"):
        ENAS(filter=42)


def test_range_filter_with_no_legal_sample_fails_after_patience(space_and_profiler):
    space, prof = space_and_profiler
    filt = RangeProfilerFilter(prof, 1.0, 2.0, patience=7)
    with pytest.raises(NoFeasibleSampleError, match=r"7 samples in a row fell outside \[1, 2\] MACs.*widen it"):
        ENAS(epochs=1, ctrl_steps=1, filter=filt).fit(space, ZeroLossTrainer())
    assert filt.rejected == 7


def test_proxyless_hardware_loss_arguments(space_and_profiler):
    _, prof = space_and_profiler
    with pytest.raises(ValueError, match="unknown grad_reg_loss_type 'mul#lin'"):
        ProxylessNAS(grad_reg_loss_type="mul#lin")
    with pytest.raises(ValueError, match=r"needs grad_reg_loss_params with \['alpha', 'beta'\]; missing \['beta'\]"):
        ProxylessNAS(grad_reg_loss_type="mul#log", grad_reg_loss_params={"alpha": 0.2})
    with pytest.raises(ValueError, match=r"missing \['lambda'\]"):
        ProxylessNAS(grad_reg_loss_type="add#linear", grad_reg_loss_params={"alpha": 0.2})
    with pytest.raises(ValueError, match="needs dummy_input"):
        ProxylessNAS(applied_hardware="flops")
    with pytest.raises(ValueError, match="give one hardware term"):
        ProxylessNAS(applied_hardware="flops", dummy_input=(1, 1, 8, 8), penalty=ExpectationProfilerPenalty(prof, 1))
    ce, lat = torch.tensor(2.0), torch.tensor(80.0, requires_grad=True)
    assert float(HardwareLoss("add#linear", {"lambda": 0.1}, 65.0)(ce, lat).detach()) == pytest.approx(2.0 + 0.1 * 15 / 65)
    mul = HardwareLoss("mul#log", {"alpha": 0.2, "beta": 0.3}, 65.0)(ce, lat)
    assert float(mul.detach()) == pytest.approx(0.2 * 2.0 * (torch.log(lat) / torch.log(torch.tensor(65.0))).item() ** 0.3)
    mul.backward()
    assert lat.grad > 0


@pytest.mark.skipif("flops" not in nas_core.available("profiler"), reason="needs the flops profiler plugin")
def test_applied_hardware_by_registry_name_moves_expected_cost():
    space = DigitsOneShotSpace()
    strategy = ProxylessNAS(epochs=2, warmup_epochs=0, arch_lr=0.05, applied_hardware="flops", dummy_input=(1, 1, 8, 8),
                            grad_reg_loss_type="add#linear", grad_reg_loss_params={"lambda": 5.0}, ref_latency=1e4)
    strategy.fit(space, ZeroLossTrainer(n=32))
    assert type(strategy.profiler).__name__ == "FlopsProfiler"
    uniform = strategy.profiler.expectation({l: torch.full((len(c.domain),), 1 / len(c.domain))
                                             for l, c in space.space.choices.items()})
    assert strategy.history[-1]["expected_cost"] < 0.9 * float(uniform)


def test_unknown_applied_hardware_names_the_registry():
    with pytest.raises(nas_core.UnknownComponentError, match="flopz"):
        ProxylessNAS(applied_hardware="flopz", dummy_input=(1, 1, 8, 8)).fit(DigitsOneShotSpace(), ZeroLossTrainer())


def test_export_before_fit_is_an_error():
    with pytest.raises(nas_core.NasError, match="before fit"):
        DARTS().export()


@pytest.mark.skipif("flops" not in nas_core.available("profiler"), reason="needs the flops profiler plugin")
def test_seed_code_with_flops_profiler():
    from nas_profiler_flops import FlopsProfiler

    model_space, dummy_input = DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8)
    profiler = FlopsProfiler(model_space, dummy_input)
    penalty = ExpectationProfilerPenalty(profiler, 30e3)
    strategy = ProxylessNAS(penalty=penalty, epochs=1)
    strategy.fit(model_space, ZeroLossTrainer(n=32))
    assert penalty.last_cost is not None and strategy.export() == strategy.export()
    filt = RangeProfilerFilter(profiler, 20e3, 300e3)
    strategy = ENAS(filter=filt, epochs=1, ctrl_steps=2)
    strategy.fit(model_space, ZeroLossTrainer(n=32))
    assert 20e3 <= profiler.profile(strategy.export()) <= 300e3

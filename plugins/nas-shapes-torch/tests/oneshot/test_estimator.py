"""The estimator of a profile-only profiler against the exact expectation of the FLOPs trace (MACs of torch
layers, so with the torch formula pack): exact enumeration, the score-function estimate, the wrapping rules."""
import pytest
import torch

from nas_core import Profiler
from nas_core.errors import ConfigError
from nas_core.oneshot.estimator import EstimatedExpectationProfiler, with_expectation
from nas_core.oneshot.testing import DigitsOneShotSpace, LookupLatency, MacsProfiler, random_probs


class ProfileOnly(Profiler):
    """FLOPs through profile() only, hiding the exact expectation."""

    unit = "MACs"

    def __init__(self, exact):
        self.exact = exact

    def profile(self, sample):
        return self.exact.profile(sample)


@pytest.fixture(scope="module")
def space():
    return DigitsOneShotSpace()


@pytest.fixture(scope="module")
def macs(space):
    return MacsProfiler(space, torch.zeros(1, 1, 8, 8))


def test_exact_enumeration_matches_the_exact_expectation(space, macs):
    est = EstimatedExpectationProfiler(ProfileOnly(macs), space)
    # op1's kernel matters only when op1 is "convk" (found by the one-change probes); the skip adds no MACs
    assert est.exact and est.labels == ["width", "op1", "kernel", "op2"] and est.combinations == 96
    sn, probs = random_probs(space, seed=3)
    ours, exact = est.expectation(probs), macs.expectation(probs)
    assert torch.allclose(ours.double(), exact.double(), rtol=1e-5)
    params = sn.arch_parameters()
    g_ours = torch.autograd.grad(est.expectation(sn.arch.probs()), params, allow_unused=True)
    g_exact = torch.autograd.grad(macs.expectation(sn.arch.probs()), params, allow_unused=True)
    for p, a, b in zip(params, g_ours, g_exact):
        a = torch.zeros_like(p) if a is None else a
        b = torch.zeros_like(p) if b is None else b
        assert torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-3 * float(b.abs().max()))


def test_score_function_estimate_is_unbiased(space, macs):
    est = EstimatedExpectationProfiler(ProfileOnly(macs), space, max_enumerate=1, num_samples=32, seed=1)
    assert not est.exact
    sn, probs = random_probs(space, seed=5)
    values = torch.stack([est.expectation(probs).detach() for _ in range(40)])
    exact = float(macs.expectation(probs).detach())
    assert abs(float(values.mean()) - exact) / exact < 0.05  # 1,280 draws
    grads = [torch.autograd.grad(est.expectation(sn.arch.probs()), sn.arch["width"])[0] for _ in range(40)]
    g_exact = torch.autograd.grad(macs.expectation(sn.arch.probs()), sn.arch["width"])[0]
    g_mean = torch.stack(grads).mean(0)
    assert torch.sign(g_mean).tolist() == torch.sign(g_exact).tolist()
    assert torch.allclose(g_mean, g_exact, rtol=0.25, atol=0.1 * float(g_exact.abs().max()))


def test_wrapping_rules_and_errors(space, macs):
    assert with_expectation(macs) is macs  # an exact expectation is kept
    with pytest.raises(TypeError, match="pass the model space"):
        with_expectation(ProfileOnly(macs))

    class Declared(LookupLatency):
        depends_on = ["op1"]

    est = with_expectation(Declared(space))
    assert est.labels == ["op1"] and est.combinations == 4
    Declared.depends_on = ["op9"]
    with pytest.raises(ConfigError, match="op9"):
        with_expectation(Declared(space))

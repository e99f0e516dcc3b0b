"""Any profiler in a differentiable penalty: exact enumeration, or a score-function estimate."""
import pytest
import torch

from nas_core import Profiler, search_space
from nas_core.errors import ConfigError
from nas_core.oneshot import ExpectationProfilerPenalty, Supernet
from nas_core.oneshot.estimator import EstimatedExpectationProfiler, with_expectation
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler, ZeroLossTrainer
from nas_strategy_darts import DARTS

OP_MS = {"conv3x3": 3.0, "convk": 5.0, "conv1x1": 1.0, "blur": 2.0}


class LookupLatency(Profiler):
    """A latency lookup table on op1 only (no expectation): what a measured table looks like."""

    unit = "ms"

    def __init__(self, space):
        self.space = space
        self.calls = 0

    def profile(self, sample):
        self.calls += 1
        return OP_MS[sample["op1"]] + 0.5 * (sample["op2"] == "conv5x5")


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


def random_probs(space, seed=0):
    sn = Supernet(space)
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        for p in sn.arch_parameters():
            p.copy_(torch.randn(len(p), generator=g))
    return sn, sn.arch.probs()


def test_finds_the_labels_the_cost_depends_on_and_enumerates_them(space):
    est = EstimatedExpectationProfiler(LookupLatency(space), space)
    assert est.labels == ["op1", "op2"] and est.exact and est.combinations == 16
    sn, probs = random_probs(space)
    p1, p2 = probs["op1"], probs["op2"]
    names1, names2 = search_space(space).choices["op1"].domain, search_space(space).choices["op2"].domain
    expected = sum(p1[i] * OP_MS[n] for i, n in enumerate(names1)) + 0.5 * p2[names2.index("conv5x5")]
    assert torch.allclose(est.expectation(probs), expected.to(torch.float32), rtol=1e-6)


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


@pytest.mark.parametrize("estimator", [{}, {"max_enumerate": 1, "num_samples": 8}])
def test_penalty_gradient_moves_toward_cheaper_candidates(space, estimator):
    """DARTS with no task signal and a lookup-table latency penalty: op1's cheapest op (conv1x1) gains most."""
    prof = LookupLatency(space)
    penalty = ExpectationProfilerPenalty(prof, 1.0, scale=1.0, nonlinear="linear", space=space, estimator=estimator)
    strategy = DARTS(epochs=2, arch_lr=0.1, penalty=penalty, seed=0)
    strategy.fit(space, ZeroLossTrainer(n=32, batch_size=8))
    p = strategy.supernet.arch.probs()["op1"]
    names = search_space(space).choices["op1"].domain
    prob = dict(zip(names, p.tolist()))
    assert max(prob, key=prob.get) == "conv1x1" and prob["conv1x1"] > 0.26  # the cheapest gained most
    assert prob["convk"] < 0.25 and prob["conv3x3"] < 0.25  # the dearer than average lost
    assert strategy.export()["op1"] == "conv1x1"


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

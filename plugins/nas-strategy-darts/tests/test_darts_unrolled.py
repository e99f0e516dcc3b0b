"""Second-order DARTS: the gradient through one virtual weight step, checked by finite differences."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from nas_core.oneshot import Supernet
from nas_core.space import LayerChoice
from nas_strategy_darts.unrolled import unrolled_arch_grad

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")

XI = 0.5


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.op = LayerChoice([nn.Sequential(nn.Linear(4, 5), nn.Tanh()), nn.Linear(4, 5), nn.Sequential(nn.Linear(4, 5), nn.Sigmoid())], label="op")
        self.act = LayerChoice([nn.Tanh(), nn.Softplus()], label="act")
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc(self.act(self.op(x)))


def setup():
    torch.manual_seed(0)
    sn = Supernet(Tiny()).double()
    with torch.no_grad():
        for p in sn.arch_parameters():
            p.copy_(torch.randn(len(p), dtype=torch.float64))
    g = torch.Generator().manual_seed(1)
    train = (torch.randn(8, 4, dtype=torch.float64, generator=g), torch.randint(0, 3, (8,), generator=g))
    val = (torch.randn(8, 4, dtype=torch.float64, generator=g), torch.randint(0, 3, (8,), generator=g))
    return sn, train, val


def unrolled_objective(sn, train, val):
    """L_val(w - xi * grad_w L_train(w, alpha), alpha), computed directly (weights restored)."""
    weights = sn.weight_parameters()
    backup = [w.detach().clone() for w in weights]
    sn.set_weights(sn.arch.probs())
    grads = torch.autograd.grad(F.cross_entropy(sn(train[0]), train[1]), weights)
    with torch.no_grad():
        for w, g in zip(weights, grads):
            w.sub_(XI * g)
        sn.set_weights(sn.arch.probs())
        value = float(F.cross_entropy(sn(val[0]), val[1]))
        for w, b in zip(weights, backup):
            w.copy_(b)
    return value


def test_second_order_gradient_matches_finite_differences_and_differs_from_first_order():
    sn, train, val = setup()
    before = [w.detach().clone() for w in sn.weight_parameters()]
    grads, _ = unrolled_arch_grad(sn, F.cross_entropy, train, val, XI, sn.arch.probs)
    assert all(torch.equal(a, b) for a, b in zip(before, sn.weight_parameters()))  # weights restored exactly

    h = 1e-5
    numeric = []
    for p in sn.arch_parameters():
        g = torch.zeros_like(p)
        for i in range(len(p)):
            with torch.no_grad():
                p[i] += h
            up = unrolled_objective(sn, train, val)
            with torch.no_grad():
                p[i] -= 2 * h
            down = unrolled_objective(sn, train, val)
            with torch.no_grad():
                p[i] += h
            g[i] = (up - down) / (2 * h)
        numeric.append(g)
    for ours, num in zip(grads, numeric):
        assert torch.allclose(ours, num, rtol=1e-3, atol=1e-6), (ours, num)

    # first order: grad_alpha L_val(w, alpha) at the current weights
    sn.set_weights(sn.arch.probs())
    first = torch.autograd.grad(F.cross_entropy(sn(val[0]), val[1]), sn.arch_parameters())
    diff = max(float((a - b).abs().max()) for a, b in zip(first, grads))
    scale = max(float(a.abs().max()) for a in grads)
    assert diff > 0.05 * scale  # a different gradient, not a rounding of the same one


def test_unrolled_with_gumbel_and_a_penalty_runs_and_follows_the_penalty():
    """No task signal: the second-order step is the penalty's gradient alone (Gumbel noise kept fixed per step)."""
    from nas_core import Profiler
    from nas_core.oneshot import ExpectationProfilerPenalty
    from nas_core.oneshot.testing import DigitsOneShotSpace, ZeroLossTrainer
    from nas_strategy_darts import DARTS

    class Latency(Profiler):
        def profile(self, sample):
            return {"conv3x3": 3.0, "convk": 5.0, "conv1x1": 1.0, "blur": 2.0}[sample["op1"]]

    space = DigitsOneShotSpace()
    penalty = ExpectationProfilerPenalty(Latency(), 1.0, nonlinear="linear", space=space)
    strategy = DARTS(epochs=1, arch_lr=0.2, penalty=penalty, gumbel=True, unrolled=True, seed=0)
    strategy.fit(space, ZeroLossTrainer(n=32, batch_size=8))
    assert strategy.export()["op1"] == "conv1x1" and strategy.history[0]["arch_loss"] > 0

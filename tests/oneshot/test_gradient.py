"""Acceptance: with a FLOPs penalty and zero task loss, architecture steps move every choice to its cheaper candidates."""
import pytest
import torch

from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler, ZeroLossTrainer
from nas_strategy_darts import DARTS
from nas_strategy_proxyless import ProxylessNAS


def _marginal_costs(space, prof):
    """Per label, the expected cost of each candidate with the other labels uniform."""
    choices = space.space.choices
    uniform = {l: torch.full((len(c.domain),), 1.0 / len(c.domain)) for l, c in choices.items()}
    out = {}
    for l, c in choices.items():
        costs = []
        for i in range(len(c.domain)):
            probs = dict(uniform)
            probs[l] = torch.nn.functional.one_hot(torch.tensor(i), len(c.domain)).float()
            costs.append(float(prof.expectation(probs)))
        out[l] = costs
    return out


@pytest.mark.parametrize("make", [
    lambda pen: DARTS(epochs=2, warmup_epochs=0, arch_lr=0.05, penalty=pen),
    lambda pen: DARTS(epochs=2, warmup_epochs=0, arch_lr=0.05, penalty=pen, gumbel=True),
    lambda pen: ProxylessNAS(epochs=2, warmup_epochs=0, arch_lr=0.05, penalty=pen),
], ids=["darts", "darts-gumbel", "proxyless"])
def test_penalty_alone_moves_probability_to_cheaper_candidates(make):
    torch.manual_seed(0)
    space = DigitsOneShotSpace()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    marginal = _marginal_costs(space, prof)
    strategy = make(ExpectationProfilerPenalty(prof, 1000.0))  # far below every architecture: always active
    strategy.fit(space, ZeroLossTrainer(n=32, batch_size=8))  # 2 epochs x 2 weight batches: 4 architecture steps
    final = strategy.supernet.arch.probs()
    checked = 0
    for label, costs in marginal.items():
        if max(costs) - min(costs) < 1e-9:
            continue  # every candidate costs the same (the skip choice adds no MACs): nothing to prefer
        p = final[label].detach()
        n = len(costs)
        cheapest = min(range(n), key=costs.__getitem__)
        dearest = max(range(n), key=costs.__getitem__)
        assert p[cheapest] > 1.0 / n + 0.01, (label, p, costs)
        assert p[dearest] < 1.0 / n - 0.01, (label, p, costs)
        # probability is ordered by cost: the expected cost under p is below the uniform one
        assert float((p * torch.tensor(costs)).sum()) < sum(costs) / n
        checked += 1
    assert checked == 4  # width, op1, kernel, op2

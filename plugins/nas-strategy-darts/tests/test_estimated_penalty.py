"""DARTS with a lookup-table latency penalty and no task signal moves op1 to its cheapest candidate, with the
estimator's exact enumeration and with its score-function estimate (the migration guide's claim)."""
import pytest

from nas_core import search_space
from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.testing import DigitsOneShotSpace, LookupLatency, ZeroLossTrainer
from nas_strategy_darts import DARTS

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


@pytest.fixture(scope="module")
def space():
    return DigitsOneShotSpace()


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

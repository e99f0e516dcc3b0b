"""Any profiler in a differentiable penalty: the labels a table's cost depends on, and its exact expectation
(the estimator on the FLOPs trace is tested with the torch formula pack, ``plugins/nas-shapes-torch/tests/oneshot``;
in DARTS' penalty, with the DARTS plugin)."""
import pytest
import torch

from nas_core import search_space
from nas_core.oneshot.estimator import EstimatedExpectationProfiler
from nas_core.oneshot.testing import DIGITS_OP1_MS, DigitsOneShotSpace, LookupLatency, random_probs


@pytest.fixture(scope="module")
def space():
    return DigitsOneShotSpace()


def test_finds_the_labels_the_cost_depends_on_and_enumerates_them(space):
    est = EstimatedExpectationProfiler(LookupLatency(space), space)
    assert est.labels == ["op1", "op2"] and est.exact and est.combinations == 16
    sn, probs = random_probs(space)
    p1, p2 = probs["op1"], probs["op2"]
    names1, names2 = search_space(space).choices["op1"].domain, search_space(space).choices["op2"].domain
    expected = sum(p1[i] * DIGITS_OP1_MS[n] for i, n in enumerate(names1)) + 0.5 * p2[names2.index("conv5x5")]
    assert torch.allclose(est.expectation(probs), expected.to(torch.float32), rtol=1e-6)

"""FlopsProfiler options and the reference counter for CPU attention kernels."""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nas_core.nn as nnn
from nas_core.shapes import leaf, unregister_formula
from nas_core.space import LayerChoice, ModelSpace, ValueChoice
from nas_profiler_flops import FlopsProfiler, flop_counter_mapping, reference_flops


def test_reference_counts_cpu_attention_like_the_matmul_path():
    q, k, v = torch.randn(2, 3, 5, 4), torch.randn(2, 3, 7, 4), torch.randn(2, 3, 7, 6)
    via_sdpa = reference_flops(lambda: F.scaled_dot_product_attention(q, k, v))
    via_matmul = reference_flops(lambda: (q @ k.transpose(-1, -2)).softmax(-1) @ v)
    assert via_sdpa == via_matmul == 2 * 2 * 3 * 5 * 7 * (4 + 6)
    assert torch.ops.aten.mv in flop_counter_mapping()


class Net(ModelSpace):
    def __init__(self):
        super().__init__()
        self.c = nnn.Conv2d(3, ValueChoice([4, 8], label="w"), 3, padding=1)
        self.bn = nnn.BatchNorm2d(ValueChoice([4, 8], label="w"))
        self.act = LayerChoice({"relu": nn.ReLU(), "id": nn.Identity()}, label="act")

    def forward(self, x):
        return self.act(self.bn(self.c(x))) + 1


def test_optional_kinds_add_exactly_their_counts():
    x = torch.randn(1, 3, 4, 4)
    base = FlopsProfiler(Net(), x)
    s = {"w": 8, "act": "relu"}
    out = 8 * 16
    assert base.profile(s) == out * 27
    assert FlopsProfiler(Net(), x, count_bias=True).profile(s) == out * 28
    assert FlopsProfiler(Net(), x, count_norm=True).profile(s) == out * 28
    assert FlopsProfiler(Net(), x, count_activation=True).profile(s) == out * 28
    assert FlopsProfiler(Net(), x, count_activation=True).profile({"w": 8, "act": "id"}) == out * 27
    assert FlopsProfiler(Net(), x, count_elementwise=True).profile(s) == out * 28
    assert FlopsProfiler(Net(), x, unit="flops", count_bias=True).profile(s) == out * 55
    assert "MACs" in repr(base)


def test_costless_leaf_warns_by_name():
    @leaf(shape="same")
    class Quiet(nn.Module):
        def forward(self, x):
            return x * 3

    class S(ModelSpace):
        def __init__(self):
            super().__init__()
            self.c = nnn.Conv2d(1, ValueChoice([2, 4], label="w"), 1)
            self.q = Quiet()

        def forward(self, x):
            return self.q(self.c(x))

    try:
        with pytest.warns(RuntimeWarning, match=r"Quiet \(at q\).*counts them 0"):
            FlopsProfiler(S(), torch.randn(1, 1, 2, 2))
    finally:
        unregister_formula(Quiet)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FlopsProfiler(Net(), torch.randn(1, 3, 4, 4))


@pytest.mark.parametrize(
    "sample, message",
    [
        ({"w": 8}, r"missing label 'act'"),
        ({"w": 8, "act": "relu", "wd": 4}, r"unknown label 'wd'.*Did you mean 'w'"),
        ({"w": -1, "act": "relu"}, r"value -1 for label 'w' is not allowed; allowed values: .*4.*8"),
        ({"w": 6, "act": "relu"}, r"value 6 for label 'w'"),
        ({"w": [8], "act": "relu"}, r"value \[8\] for label 'w'"),
        ({"w": 8, "act": "gelu"}, r"value 'gelu' for label 'act'"),
    ],
)
def test_bad_samples_are_named_in_profile_and_batch(sample, message):
    from nas_core.errors import InvalidSampleError

    prof = FlopsProfiler(Net(), torch.randn(1, 3, 4, 4))
    with pytest.raises(InvalidSampleError, match=message):
        prof.profile(sample)
    with pytest.raises(InvalidSampleError, match=message):
        prof.profile_batch([{"w": 4, "act": "id"}, sample])
    # equal values of another type are the same choice
    assert prof.profile({"w": 8.0, "act": "relu"}) == prof.profile({"w": 8, "act": "relu"})

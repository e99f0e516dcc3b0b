"""Acceptance: FlopsProfiler and NumParamsProfiler are exact on the frozen model, for every sample.

The reference is ``torch.utils.flop_counter.FlopCounterMode`` on the frozen model (2 FLOPs
per MAC), completed by ``nas_profiler_flops.flop_counter_mapping`` for the CPU kernels it
has no formula for (CPU sdpa, fused attention fast paths; see docs/shapes-and-profilers.md).
For spaces without attention the plain FlopCounterMode total is asserted too.

Sample counts: the MNIST, transformer and width spaces are enumerated exhaustively (each
has fewer than 200 samples); the ProxylessNAS-style space (22 blocks, about 5.6e11
samples) is checked on ``NAS_EXACTNESS_SAMPLES`` (default 200) random samples at 224x224.
That one runs on the CPU under ``torch.no_grad`` (about 0.3 s a sample here with the
freeze); the width space runs on the meta device after its first sample, where
FlopCounterMode counts from shapes without computing.
"""
from __future__ import annotations

import os

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import nas_core
import nas_core.nn as nnn
from nas_core import ArchitectureError, search_space
from nas_core.errors import ProfilerError, ShapeInferenceError
from nas_core.shapes import leaf, register_formula, unregister_formula
from nas_core.space import LayerChoice, ModelSpace, ValueChoice
from nas_core.testing.seed_spaces import SkipNet
from nas_profiler_flops import FlopsProfiler, reference_flops
from nas_profiler_params import NumParamsProfiler

from .exactness_spaces import ProxylessSpace, TinyViT, TorchTransformer, WidthZoo
from .reference_nets import MobileNetV2, resnet18, resnet50

N_RANDOM = int(os.environ.get("NAS_EXACTNESS_SAMPLES", "200"))


def _plain_flops(model: nn.Module, x) -> int:
    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def _on_meta(model: nn.Module, x: torch.Tensor):
    """The frozen model and input on the meta device: FlopCounterMode counts from shapes, without compute."""
    return model.to("meta"), x.to("meta")


def assert_exact(model: nn.Module, x, samples, plain: bool | int = True, meta: bool = False, no_grad_too: bool = False,
                 grad: bool = True):
    """Profilers equal the references on every sample. ``plain``: also compare plain FlopCounterMode
    (an int: on that many first samples); ``meta``: samples after the first run on the meta device;
    ``grad=False``: the references run under ``torch.no_grad`` (for spaces without attention,
    where that takes the same kernels)."""
    space = search_space(model)
    flops = FlopsProfiler(model, x, unit="flops")
    params = NumParamsProfiler(model)
    samples = list(samples)
    n_plain = len(samples) if plain is True else int(plain)
    for i, s in enumerate(samples):
        frozen = space.freeze(s).eval()
        n_params = sum(p.numel() for p in frozen.parameters())
        assert params.profile(s) == n_params, s
        fm, xm = _on_meta(frozen, x) if meta and i > 0 else (frozen, x)  # the first sample runs for real
        with torch.set_grad_enabled(grad):
            ref = reference_flops(fm, xm)
            assert flops.profile(s) == ref, s
            if i < n_plain:
                assert _plain_flops(fm, xm) == ref, s
        if no_grad_too:  # eval + no_grad: torch takes the fused fast paths of attention
            with torch.no_grad():
                assert reference_flops(fm, xm) == ref, s
    assert flops.profile_batch(samples) == [flops.profile(s) for s in samples]
    return flops, params


def test_seed004_mnist_space_every_sample():
    model = SkipNet(fixed=True)
    flops, _ = assert_exact(model, torch.randn(1, 1, 28, 28), search_space(model).enumerate())
    assert flops.unit == "FLOPs"


@pytest.mark.slow
def test_width_dependent_space_every_sample():
    model = WidthZoo()
    space = search_space(model)
    assert space.count() == 144
    assert_exact(model, torch.randn(2, 3, 8, 8), space.enumerate(), meta=True)


@pytest.mark.slow
def test_proxyless_space_random_samples_at_224():
    model = ProxylessSpace()
    space = search_space(model)
    assert sum(1 for label in space.labels if label.endswith("_k")) == 21  # 21 searchable blocks + a fixed first one
    x = torch.randn(1, 3, 224, 224)
    samples = [space.random(seed) for seed in range(N_RANDOM)]
    flops, _ = assert_exact(model, x, samples, plain=5, grad=False)
    smallest = {l: (c.domain[0] if not l.endswith("_skip") else "skip") for l, c in space.choices.items()}
    assert 200e6 < flops.profile(smallest) < min(flops.profile_batch(samples)) and max(flops.profile_batch(samples)) < 1.4e9


@pytest.mark.slow
def test_transformer_spaces_every_sample_both_attention_paths():
    for model, x in ((TinyViT(), torch.randn(2, 6, 12)), (TorchTransformer(), torch.randint(0, 50, (2, 7)))):
        space = search_space(model)
        assert set(space.labels) >= {"hidden", "heads", "depth"}
        assert_exact(model, x, space.enumerate(), plain=False, no_grad_too=isinstance(model, TorchTransformer))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_attention_counts_projections_and_products(batch_first, need_weights):
    class Attn(ModelSpace):
        def __init__(self):
            super().__init__()
            self.attn = nnn.Parametrized(nn.MultiheadAttention, 16, ValueChoice([2, 4], label="heads"),
                                         batch_first=batch_first, kdim=12, vdim=8)

        def forward(self, q, kv, v):
            out, w = self.attn(q, kv, v, need_weights=need_weights)
            return out if w is None else out + w.sum()

    n, l_, s = 3, 5, 7
    q = torch.randn(n, l_, 16) if batch_first else torch.randn(l_, n, 16)
    k = torch.randn(n, s, 12) if batch_first else torch.randn(s, n, 12)
    v = torch.randn(n, s, 8) if batch_first else torch.randn(s, n, 8)
    model = Attn()
    profiler = FlopsProfiler(model, (q, k, v))
    expected = n * l_ * 16 * 16 + n * s * (12 + 8) * 16 + 2 * n * l_ * s * 16 + n * l_ * 16 * 16
    for heads in (2, 4):
        frozen = search_space(model).freeze({"heads": heads}).eval()
        assert profiler.profile({"heads": heads}) == expected
        assert 2 * expected == reference_flops(frozen, q, k, v)


def test_known_values_of_classic_networks():
    x = torch.randn(1, 3, 224, 224)
    for net, macs, n_params in ((MobileNetV2(), 300.8e6, 3_504_872), (resnet18(), 1.814e9, 11_689_512),
                                (resnet50(), 4.089e9, 25_557_032)):
        flops = FlopsProfiler(net, x)
        assert flops.profile({}) == pytest.approx(macs, rel=0.01), type(net).__name__
        assert NumParamsProfiler(net).profile({}) == n_params == sum(p.numel() for p in net.parameters())
        fm, xm = _on_meta(net, x)
        assert 2 * flops.profile({}) == _plain_flops(fm, xm)


def test_units_options_and_batch():
    model = WidthZoo()
    x = torch.randn(2, 3, 8, 8)
    space = search_space(model)
    macs = FlopsProfiler(model, x)
    flops = FlopsProfiler(model, x, unit="FLOPs")
    full = FlopsProfiler(model, x, count_bias=True, count_norm=True, count_activation=True, count_elementwise=True)
    assert (macs.unit, flops.unit, macs.metric, NumParamsProfiler(model).unit) == ("MACs", "FLOPs", "flops", "params")
    samples = [space.random(i) for i in range(30)]
    for s in samples:
        assert flops.profile(s) == 2 * macs.profile(s)
        assert full.profile(s) > macs.profile(s)
        assert sum(full.breakdown(s).values()) == pytest.approx(full.profile(s))
    assert macs.profile_batch(samples) == [macs.profile(s) for s in samples]
    # the extra kinds are what the formulas report: a bias add per output of the convolutions with bias
    stem_bias = [v for k, v in full.breakdown(samples[0]).items() if k == "stem:bias"]
    w1 = samples[0]["w1"]
    assert stem_bias == [2 * w1 * 8 * 8]


def test_expectation_is_the_probability_weighted_mean_and_differentiable():
    model = WidthZoo()
    space = search_space(model)
    samples = list(space.enumerate())
    torch.manual_seed(0)
    logits = {l: torch.randn(len(c.domain), dtype=torch.float64, requires_grad=True) for l, c in space.choices.items()}

    def weight(probs, s):
        w = 1.0
        for l, c in space.choices.items():
            w *= float(probs[l][c.index(s[l])].detach())
        return w

    for profiler in (FlopsProfiler(model, torch.randn(1, 3, 8, 8)), NumParamsProfiler(model)):
        probs = {l: torch.softmax(v, 0) for l, v in logits.items()}
        values = profiler.profile_batch(samples)
        expected = sum(weight(probs, s) * v for s, v in zip(samples, values))
        e = profiler.expectation(probs)
        assert e.item() == pytest.approx(expected, rel=1e-9)
        grads = torch.autograd.grad(e, list(logits.values()), allow_unused=True)
        for (label, lg), g in zip(logits.items(), grads):
            for i in range(len(lg)):
                def at(delta):
                    shifted = {k: v.detach().clone() for k, v in logits.items()}
                    shifted[label][i] += delta
                    return profiler.expectation({k: torch.softmax(v, 0) for k, v in shifted.items()}).item()
                fd = (at(1e-6) - at(-1e-6)) / 2e-6
                assert (0.0 if g is None else g[i].item()) == pytest.approx(fd, rel=1e-4, abs=1e-6 * abs(e.item()))


class Mystery(nn.Module):
    """A module no pack knows, calling a torch function no pack has a formula for."""

    def forward(self, x):
        return torch.special.erfcx(x) * 2


class UsesMystery(ModelSpace):
    def __init__(self):
        super().__init__()
        self.conv = nnn.Conv2d(1, ValueChoice([4, 8], label="w"), 3)
        self.mystery = Mystery()

    def forward(self, x):
        return self.mystery(self.conv(x))


def test_module_without_formula_error_and_both_ways_out():
    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(ShapeInferenceError) as err:
        FlopsProfiler(UsesMystery(), x)
    msg = str(err.value)
    assert "'mystery'" in msg and "Mystery" in msg and "register_formula" in msg and "leaf" in msg
    # way out 1: a formula for the module
    register_formula(Mystery, lambda m, x: tuple(x.shape), costs=lambda m, out, x: {"macs": 7})
    try:
        assert FlopsProfiler(UsesMystery(), x).profile({"w": 4}) == 4 * 16 * 9 + 7
    finally:
        unregister_formula(Mystery)
    # way out 2: declare it a leaf with its costs
    leaf(shape="same", costs=lambda m, out, x: {"macs": 100})(Mystery)
    try:
        p = FlopsProfiler(UsesMystery(), x)
        assert p.profile({"w": 8}) == 8 * 16 * 9 + 100
        assert [op.path for op in p.trace.ops if op.leaf] == ["mystery"]
    finally:
        unregister_formula(Mystery)


def test_unknown_op_is_an_error_or_a_named_warning_never_a_quiet_zero():
    class Fixed(ModelSpace):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.act = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")

        def forward(self, x):
            return self.act(torch.special.erfcx(self.conv(x)))

    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(ProfilerError, match="special_erfcx"):
        FlopsProfiler(Fixed(), x)
    with pytest.warns(RuntimeWarning, match="special_erfcx"):
        p = FlopsProfiler(Fixed(), x, on_unknown="warn")
    assert p.profile({"act": 0}) == 4 * 16 * 9


def test_bad_options_and_invalid_samples_are_explained():
    x = torch.randn(1, 1, 28, 28)
    with pytest.raises(ProfilerError, match="unit must be 'macs' or 'flops'"):
        FlopsProfiler(SkipNet(fixed=True), x, unit="gflops")
    with pytest.raises(ProfilerError, match="needs a dummy input"):
        FlopsProfiler(SkipNet(fixed=True), None)
    p = FlopsProfiler(SkipNet(), x)  # the seed as written: conv5x5 with stride 3 does not fit fc1
    with pytest.raises(ArchitectureError, match="fc1"):
        p.profile({"conv1": 1, "skipcon": []})
    with pytest.raises(Exception, match="conv1"):
        p.profile({"skipcon": []})


def test_seed_code_as_written_and_registry():
    class MyModelSpace(ModelSpace):
        def __init__(self):
            super().__init__()
            self.layer1 = LayerChoice({
                "conv": nn.Sequential(nn.Unflatten(0, (1, 3)), nn.Conv1d(1, 4, 3), nn.Flatten(0)),
                "linear": nn.Linear(3, 5),
            }, label="layer1")

        def forward(self, x):
            return self.layer1(x)

    net = MyModelSpace()
    profiler = FlopsProfiler(net, torch.randn(3))  # randn(3) is a dummy input
    flops = profiler.profile({"layer1": "conv"})
    assert flops == 12 and profiler.profile({"layer1": "linear"}) == 15
    made = nas_core.registry.create("profiler", "flops", net, torch.randn(3), unit="flops")
    assert isinstance(made, FlopsProfiler) and made.profile({"layer1": "linear"}) == 30
    params = nas_core.registry.create("profiler", "params", net)
    assert isinstance(params, NumParamsProfiler) and params.profile({"layer1": "linear"}) == 3 * 5 + 5

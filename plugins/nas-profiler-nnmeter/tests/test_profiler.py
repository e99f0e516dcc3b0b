"""NnMeterProfiler on a synthetic predictor: kernels as nn-Meter detects them, values, expectation, errors."""
import itertools
import time

import pytest
import torch
from torch import nn

import nas_core
import nas_core.nn as nnn
from nas_core import ArchitectureError, search_space
from nas_core.errors import InvalidSampleError
from nas_core.space import LayerChoice, ModelSpace, Repeat, ValueChoice

from nas_profiler_nnmeter import NnMeterProfiler
from nas_profiler_nnmeter.reference import nn_meter_kernels, nn_meter_predict
from nnmeter_mbv2_space import conv_bn_relu


class SmallSpace(ModelSpace):
    """Fusion cases: conv-bn-relu, dwconv-bn-relu, a pooling or a skip (Identity) candidate, add-relu,
    a Repeat depth, a width choice reaching the classifier, and BN folding."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 8, 3)
        self.op = LayerChoice({"conv": conv_bn_relu(8, 8, 3), "dw": conv_bn_relu(8, 8, 5, groups=8),
                               "pool": nn.MaxPool2d(3, 1, 1), "skip": nn.Identity()}, label="op")
        self.rep = Repeat(lambda i: conv_bn_relu(8, 8, 3, groups=8), (0, 2), label="depth")
        w = ValueChoice([8, 16], label="width")
        self.head = nn.Sequential(nnn.Conv2d(8, w, 1), nnn.BatchNorm2d(w), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nnn.Linear(w, 10)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(x + self.op(x))
        x = self.head(self.rep(x))
        return self.fc(torch.flatten(self.pool(x), 1))


X = torch.randn(1, 3, 16, 16)


@pytest.fixture(scope="module")
def small(synthetic_predictor):
    model = SmallSpace()
    return model, NnMeterProfiler(model, X, predictor=synthetic_predictor)


@pytest.mark.slow
def test_every_sample_matches_nn_meters_own_prediction(small):
    model, prof = small
    space = search_space(model)
    samples = list(space.enumerate())
    assert len(samples) == 24
    for s in samples:
        frozen = space.freeze(s)
        ours, theirs = prof.profile(s), nn_meter_predict(prof.predictor, frozen, X)
        assert ours == pytest.approx(theirs, rel=1e-9), s
    assert prof.profile_batch(samples) == pytest.approx([prof.profile(s) for s in samples], rel=1e-12)


def test_fused_kernels_are_nn_meters(small):
    model, prof = small
    space = search_space(model)
    for op in ("conv", "dw", "pool", "skip"):
        s = {"op": op, "depth": 1, "width": 16}
        ours = [k["op"] for k in prof.kernels(s) if k["op"] != "reshape"]
        theirs = [k["op"] for k in nn_meter_kernels(prof.predictor, space.freeze(s), X)]
        assert sorted(ours) == sorted(theirs), (op, ours, theirs)
    ops = [k["op"] for k in prof.kernels({"op": "conv", "depth": 1, "width": 8})]
    # conv + bn + relu is one kernel (BN folded by the exporter), the residual add absorbs its ReLU
    assert ops[:3] == ["conv-relu", "conv-relu", "add-relu"] and "dwconv-relu" in ops
    preds = {k["op"]: k["predictor"] for k in prof.kernels({"op": "conv", "depth": 1, "width": 8})}
    assert preds["conv-relu"] == "conv-bn-relu" and preds["add-relu"] == "addrelu" and preds["gap"] == "global-avgpool"


def test_expectation_is_exact_and_differentiable(small):
    model, prof = small
    space = search_space(model)
    gen = torch.Generator().manual_seed(0)
    logits = {l: torch.randn(len(c.domain), generator=gen, dtype=torch.float64, requires_grad=True)
              for l, c in space.choices.items()}
    probs = {l: torch.softmax(v, 0) for l, v in logits.items()}
    exp = prof.expectation(probs)
    brute = 0.0
    for s in space.enumerate():
        p = 1.0
        for l, v in s.items():
            p *= float(probs[l][space.choices[l].domain.index(v)].detach())
        brute += p * prof.profile(s)
    assert float(exp.detach()) == pytest.approx(brute, rel=1e-9)
    exp.backward()
    assert all(v.grad is not None and torch.isfinite(v.grad).all() for v in logits.values())


def test_profile_is_fast_and_validates(small):
    model, prof = small
    s = {"op": "dw", "depth": 2, "width": 8}
    start = time.perf_counter()
    for _ in range(2000):
        prof.profile(s)
    assert (time.perf_counter() - start) / 2000 < 1e-4
    with pytest.raises(InvalidSampleError):
        prof.profile({"op": "nope", "depth": 2, "width": 8})
    assert prof.unit == "ms" and prof.metric == "latency"


def test_created_through_the_registry(synthetic_predictor):
    prof = nas_core.create("profiler", "nn-meter", SmallSpace(), X, predictor=str(synthetic_predictor))
    assert isinstance(prof, NnMeterProfiler) and prof.profile({"op": "skip", "depth": 0, "width": 8}) > 0


def test_missing_regressor_is_a_named_warning_not_silent(tmp_path, synthetic_predictor):
    import shutil

    folder = tmp_path / "no_fc"
    shutil.copytree(synthetic_predictor, folder)
    (folder / "fc.pkl").unlink()
    with pytest.warns(RuntimeWarning, match=r"no regressor for kernel type\(s\) fc \(e\.g\. at fc\)"):
        prof = NnMeterProfiler(SmallSpace(), X, predictor=folder)
    s = {"op": "conv", "depth": 0, "width": 8}
    model = SmallSpace()
    # nn-Meter also predicts nothing for a kernel type it has no regressor for
    assert prof.profile(s) == pytest.approx(nn_meter_predict(prof.predictor, search_space(model).freeze(s), X), rel=1e-9)

"""End to end: measure kernels on this CPU, build and register a predictor, profile a MobileNetV2-style
space, and agree with nn-Meter's own whole-model prediction; rebuild after the pickles break."""
import json
import pickle

import pytest
import torch

from nas_core import search_space

from nas_profiler_nnmeter import (
    NnMeterProfiler,
    PredictorLoadError,
    build_predictor,
    load_predictor,
    rebuild_predictor,
    register_predictor,
)
from nas_profiler_nnmeter.builder import KernelConfig, default_kernel_configs
from nas_profiler_nnmeter.errors import PredictorBuildError
from nas_profiler_nnmeter.reference import nn_meter_predict
from nnmeter_mbv2_space import MobileNetV2Space

pytest.importorskip("nas_profiler_device.measure")
pytest.importorskip("onnxruntime")

X = torch.randn(1, 3, 32, 32)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pred") / "this-cpu"
    configs = default_kernel_configs(n_per_kernel=3, seed=1)
    # real timings with 3 runs on a shared machine: stability is tested in test_build_protocol.py
    return build_predictor(folder, configs, repeats=3, warmup=1, threads=1, on_unstable="ignore")


def test_built_folder_is_nn_meter_format_with_versions_and_training_data(built):
    names = {p.stem for p in built.glob("*.pkl")}
    assert names == {"conv-bn-relu", "dwconv-bn-relu", "fc", "global-avgpool", "add"}
    rules = json.loads((built / "fusion_rules.json").read_text())
    assert rules["BF_conv_relu"]["obey"] and rules["MON"]["obey"] == 0
    meta = json.loads((built / "metadata.json").read_text())
    assert {"scikit-learn", "nn-meter", "torch", "onnxruntime"} <= set(meta["versions"])
    assert meta["backend"] == "onnxruntime" and meta["threads"] == 1 and meta["device"].startswith("cpu")
    assert meta["kernels"]["conv-bn-relu"]["samples"] == 3
    lines = (built / "training_data" / "conv-bn-relu.csv").read_text().splitlines()
    assert lines[0].startswith("kernel,cin,hw,cout,ks,stride,feature_0") and len(lines) == 4
    assert all(float(l.split(",")[-3]) > 0 for l in lines[1:])  # measured latencies


@pytest.mark.slow
def test_registered_predictor_agrees_with_nn_meter_on_50_samples(built):
    register_predictor("this-cpu", built)
    model = MobileNetV2Space()
    prof = NnMeterProfiler(model, X, predictor="this-cpu")
    space = search_space(model)
    loaded = load_predictor("this-cpu")
    for i in range(50):
        s = space.random(seed=i)
        ours = prof.profile(s)
        theirs = nn_meter_predict(loaded, space.freeze(s), X)
        assert ours == pytest.approx(theirs, rel=0.01), (i, s)
        assert ours > 0


def test_rebuild_refits_unloadable_pickles_from_training_data(built, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(built, folder)
    before = load_predictor(folder)
    row = [[8, 16, 32, 3, 1, 0.04, 0.005]]
    expected = before.regressors["conv-bn-relu"].predict(row)[0]
    (folder / "conv-bn-relu.pkl").write_bytes(b"not a pickle")
    with pytest.raises(PredictorLoadError, match="rebuild_predictor"):
        load_predictor(folder)
    stats = rebuild_predictor(folder)
    assert stats["conv-bn-relu"]["samples"] == 3
    after = load_predictor(folder)
    assert after.regressors["conv-bn-relu"].predict(row)[0] == pytest.approx(expected, rel=1e-12)
    assert "rebuilt" in json.loads((folder / "metadata.json").read_text())


def test_rebuild_without_training_data_is_an_error(tmp_path, synthetic_predictor):
    with pytest.raises(PredictorBuildError, match="no training data"):
        rebuild_predictor(synthetic_predictor)


def test_bad_kernel_configs_are_rejected():
    with pytest.raises(PredictorBuildError, match="unknown kernel type"):
        KernelConfig("conv", cin=8)
    with pytest.raises(PredictorBuildError, match="cout"):
        KernelConfig("conv-bn-relu", cin=8, hw=8)
    with pytest.raises(PredictorBuildError, match="positive int"):
        KernelConfig("add", cin=0, hw=8)


def test_custom_measure_function_and_features_match_nn_meter(tmp_path):
    calls = []

    def fake(module, shapes):
        calls.append(shapes)
        return {"median_ms": 1.0 + 0.001 * sum(s[1] for s in shapes), "spread": 0.0}

    cfgs = [KernelConfig("conv-bn-relu", cin=8, hw=8, cout=c, ks=3) for c in (8, 16)]
    folder = build_predictor(tmp_path / "fake", cfgs, measure=fake, subtract_overhead=False)
    # once per kernel and round of the protocol (repeats=30: 6 interleaved rounds)
    assert len(calls) == 2 * 6 and calls.count([(1, 8, 8, 8)]) == 12
    assert cfgs[0].features() == [8, 8, 8, 3, 1, 8 * 8 * 8 * (9 * 8 + 1) / 1e6, 8 * (9 * 8 + 1) / 1e6]
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["backend"] == "custom" and meta["overhead_ms"] == 0.0

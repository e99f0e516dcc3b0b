"""build_predictor under the shared measurement protocol: interleaved rounds, stability check, calibration."""
import json
import shutil

import pytest
import torch

from nas_profiler_device.protocol import MeasurementProtocol, UnstableMeasurementError
from nas_profiler_nnmeter import NnMeterProfiler, build_predictor
from nas_profiler_nnmeter.builder import KernelConfig
from nas_profiler_nnmeter.calibration import CALIBRATION_FILE, read_calibration, write_calibration
from nas_profiler_nnmeter.errors import PredictorBuildError, PredictorLoadError
from nnmeter_mbv2_space import MobileNetV2Space

CFGS = [KernelConfig("conv-bn-relu", cin=8, hw=8, cout=c, ks=k) for c in (8, 16, 24) for k in (1, 3)]


def steady(module, shapes):
    return {"median_ms": 0.1 + 1e-4 * sum(p.numel() for p in module.parameters())}


def test_kernels_are_measured_in_interleaved_rounds(tmp_path):
    seen = []

    def log(module, shapes):
        seen.append(next(m.out_channels for m in module.modules() if isinstance(m, torch.nn.Conv2d))
                    * 10 + next(m.kernel_size[0] for m in module.modules() if isinstance(m, torch.nn.Conv2d)))
        return steady(module, shapes)

    folder = build_predictor(tmp_path / "p", CFGS, measure=log, subtract_overhead=False,
                             protocol=MeasurementProtocol(warmup=0, rounds=3, runs_per_round=1))
    n = len(CFGS)
    assert len(seen) == 3 * n
    assert all(sorted(seen[r * n:(r + 1) * n]) == sorted(seen[:n]) for r in range(3))  # every round: every kernel
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["protocol"]["rounds"] == 3 and meta["stability"]["stable"] and meta["stability"]["max_diff"] == 0.0
    assert meta["environment"]["load_average"] is not None and meta["calibration"] is None


def test_two_half_builds_made_to_disagree_are_refused_and_nothing_is_written(tmp_path):
    calls = []

    def drifting(module, shapes):  # the machine slows down 5 % per measurement: rounds disagree
        calls.append(1)
        return {"median_ms": steady(module, shapes)["median_ms"] * (1 + 0.05 * len(calls))}

    with pytest.raises(UnstableMeasurementError, match="not reproducible.*Stop other work.*more rounds"):
        build_predictor(tmp_path / "p", CFGS, measure=drifting, subtract_overhead=False)
    assert not (tmp_path / "p").exists() and not list(tmp_path.iterdir())
    with pytest.warns(RuntimeWarning, match="not reproducible"):
        folder = build_predictor(tmp_path / "p", CFGS, measure=drifting, subtract_overhead=False, on_unstable="warn")
    assert json.loads((folder / "metadata.json").read_text())["stability"]["stable"] is False


def test_calibration_is_applied_by_the_profiler(tmp_path, synthetic_predictor):
    folder = tmp_path / "cal"
    shutil.copytree(synthetic_predictor, folder)
    space, x = MobileNetV2Space(), torch.randn(1, 3, 32, 32)
    raw = NnMeterProfiler(space, x, predictor=folder)
    samples = [raw.space.random(seed=i) for i in range(5)]
    sums = raw.profile_batch(samples)
    data = write_calibration(folder, samples, sums, [1.25 * s + 0.3 for s in sums], {"device": "test"}, "space")
    assert data["scale"] == pytest.approx(1.25) and data["offset_ms"] == pytest.approx(0.3)
    cal = NnMeterProfiler(space, x, predictor=folder)
    assert cal.profile_batch(samples) == pytest.approx([1.25 * s + 0.3 for s in sums])
    assert NnMeterProfiler(space, x, predictor=folder, calibrated=False).profile_batch(samples) == pytest.approx(sums)
    (folder / CALIBRATION_FILE).write_text("{\"scale\": \"x\"}")
    with pytest.raises(PredictorLoadError, match="not a valid calibration"):
        read_calibration(folder)


def test_calibrate_on_must_be_a_space_and_an_input(tmp_path):
    with pytest.raises(PredictorBuildError, match="calibrate_on must be"):
        build_predictor(tmp_path / "p", CFGS, measure=steady, calibrate_on=MobileNetV2Space())

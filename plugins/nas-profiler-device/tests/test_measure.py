import math

import pytest
import torch
from torch import nn

from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.measure import BACKENDS, Measurement, export_onnx, measure_latency, summarize


def small() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_records_its_settings(backend):
    m = measure_latency(small(), torch.randn(2, 3, 16, 16), backend=backend, repeats=7, warmup=2, threads=1)
    assert m.backend == backend and m.unit == "ms" and m.metric == "latency"
    assert m.repeats == 7 and m.warmup == 2 and m.threads == 1 and m.batch == 2
    assert m.input_shapes == [[2, 3, 16, 16]]
    assert m.device.startswith("cpu:")
    assert {"torch", "onnxruntime", "onnx", "python"} <= set(m.versions)
    assert 0 < m.min_ms <= m.median_ms and m.q1_ms <= m.median_ms <= m.q3_ms and m.spread >= 0


def test_torch_threads_are_restored():
    before = torch.get_num_threads()
    measure_latency(small(), (1, 3, 8, 8), backend="eager", repeats=2, warmup=0, threads=1)
    assert torch.get_num_threads() == before


def test_onnx_bytes_and_path(tmp_path):
    data = export_onnx(small(), (1, 3, 8, 8))
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    a = measure_latency(data, [(1, 3, 8, 8)], repeats=3, warmup=1)
    b = measure_latency(str(path), [(1, 3, 8, 8)], repeats=3, warmup=1, clock="cpu")
    assert a.backend == b.backend == "onnxruntime" and b.clock == "cpu" and a.median_ms > 0
    with pytest.raises(MeasurementError, match="ONNX input 'input0' has shape"):
        measure_latency(data, [(1, 3, 9, 9)], repeats=1)
    with pytest.raises(MeasurementError, match="only be measured with backend='onnxruntime'"):
        measure_latency(data, [(1, 3, 8, 8)], backend="eager")
    with pytest.raises(MeasurementError, match="does not exist"):
        measure_latency(str(tmp_path / "none.onnx"), [(1, 3, 8, 8)])


@pytest.mark.parametrize("kwargs, match", [
    ({"backend": "tflite"}, "unknown backend 'tflite'"),
    ({"repeats": 0}, "repeats must be an integer >= 1"),
    ({"threads": 2, "clock": "cpu"}, "needs threads=1"),
    ({"clock": "sundial"}, "unknown clock"),
    ({"device": "tpu"}, "unknown device"),
])
def test_bad_options_are_named(kwargs, match):
    with pytest.raises(MeasurementError, match=match):
        measure_latency(small(), (1, 3, 8, 8), **kwargs)


def test_bad_inputs_are_named():
    with pytest.raises(MeasurementError, match="non-positive dimension"):
        measure_latency(small(), (1, 0, 8, 8))
    with pytest.raises(MeasurementError, match="inputs must be a tensor"):
        measure_latency(small(), "x")
    with pytest.raises(MeasurementError, match="failed to run on inputs"):
        measure_latency(small(), (1, 5, 8, 8), backend="eager")


def test_summary_statistics():
    s = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s["median_ms"] == 3.0 and s["min_ms"] == 1.0 and s["q1_ms"] == 2.0 and s["q3_ms"] == 4.0
    assert math.isclose(s["spread"], 2.0 / 3.0)
    with pytest.raises(MeasurementError, match="no run was timed"):
        summarize([])


def test_measurement_round_trip():
    m = measure_latency(small(), (1, 3, 8, 8), repeats=2, warmup=0)
    assert Measurement.from_dict(m.to_dict()) == m
    with pytest.raises(MeasurementError, match="lacks"):
        Measurement.from_dict({"median_ms": 1.0})


def test_cuda_events_or_a_clear_error():
    """On a GPU machine CUDA events time the run; without one, asking for CUDA is a clear error."""
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        m = measure_latency(small(), (1, 3, 16, 16), backend="eager", device="cuda", repeats=5, warmup=2)
        assert m.device.startswith("cuda:") and m.median_ms > 0
    else:
        with pytest.raises(MeasurementError, match=r"device='cuda'.*is_available\(\) is False"):
            measure_latency(small(), (1, 3, 16, 16), backend="eager", device="cuda", repeats=5, warmup=2)
    with pytest.raises(MeasurementError, match="eager and torchscript"):
        measure_latency(small(), (1, 3, 16, 16), backend="onnxruntime", device="cuda", repeats=2, warmup=0)

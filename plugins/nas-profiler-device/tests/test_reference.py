"""The speed reference: figures stay put when the whole device slows down."""
import time

import pytest
import torch
from torch import nn

from devprof_testkit import TOKEN, ChoiceSpace, FakeMeasurer, running_agent
from nas_profiler_device import AgentClient, DeviceProfiler, export_onnx, measure_latency
from nas_profiler_device.errors import MeasurementError
from nas_profiler_device.reference import SpeedReference


class Device:
    """A simulated device speed: 1.0 normal, 1.5 = everything takes 50 % longer."""

    slowdown = 1.0


class Busy(nn.Module):
    """Spins for ``ms`` milliseconds times the simulated slowdown."""

    def __init__(self, ms: float) -> None:
        super().__init__()
        self.ms = ms

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        end = time.perf_counter() + self.ms * Device.slowdown / 1e3
        while time.perf_counter() < end:
            pass
        return x


def test_a_device_slowing_down_leaves_corrected_figures_unchanged():
    ref = SpeedReference(Busy(2.0), [torch.zeros(1)])
    model, x = Busy(4.0), torch.zeros(1)
    Device.slowdown = 1.0
    try:
        first = measure_latency(model, x, backend="eager", repeats=15, warmup=2, reference=ref)
        assert ref.baselines == {"eager/1/wall": pytest.approx(2.0, rel=0.25)}
        assert first.reference_ms == ref.baselines["eager/1/wall"] and first.speed == pytest.approx(1.0, rel=1e-9)
        Device.slowdown = 1.5
        slow_raw = measure_latency(model, x, backend="eager", repeats=15, warmup=2)
        slow = measure_latency(model, x, backend="eager", repeats=15, warmup=2, reference=ref)
    finally:
        Device.slowdown = 1.0
    assert slow_raw.median_ms == pytest.approx(6.0, rel=0.15) and slow_raw.reference_ms is None
    assert slow.raw_median_ms == pytest.approx(6.0, rel=0.15)
    assert slow.speed == pytest.approx(1 / 1.5, rel=0.15)
    assert slow.median_ms == pytest.approx(first.median_ms, rel=0.08)  # the drift is taken out
    assert ref.baselines["eager/1/wall"] == first.reference_ms  # the baseline is kept


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.optimize_for_inference
def test_reference_on_every_backend_and_errors():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    x = torch.randn(1, 3, 16, 16)
    ref = SpeedReference(nn.Sequential(nn.Conv2d(3, 4, 3)), [x])
    for backend in ("eager", "torchscript", "onnxruntime"):
        m = measure_latency(net, x, backend=backend, repeats=5, warmup=1, reference=ref)
        assert m.reference_ms == ref.baselines[f"{backend}/1/wall"] > 0 and m.raw_median_ms > 0 and m.speed > 0
    assert set(ref.baselines) == {"eager/1/wall", "torchscript/1/wall", "onnxruntime/1/wall"}
    with pytest.raises(MeasurementError, match="speed reference corrects CPU measurements"):
        measure_latency(net, x, device="cuda", backend="eager", reference=ref)
    with pytest.raises(MeasurementError, match="needs a module"):
        SpeedReference()
    with pytest.raises(MeasurementError, match="runs on backend=.onnxruntime. only"):
        SpeedReference(onnx=export_onnx(net, x)).runner("eager", 1)


def test_agent_times_the_reference_and_keeps_the_clients_baseline():
    x = torch.randn(1, 3, 16, 16)
    onnx_model = export_onnx(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()), x)
    ref = SpeedReference(nn.Sequential(nn.Conv2d(3, 4, 3)), [x])
    with running_agent() as server:
        client = AgentClient(server.url, TOKEN, timeout=30)
        first = client.measure(onnx_model, [(1, 3, 16, 16)], repeats=5, warmup=1, reference=ref)
        assert ref.baselines == {"onnxruntime/1/wall": first.reference_ms} and first.reference_ms > 0
        ref.baselines["onnxruntime/1/wall"] = 1000.0  # the agent uses the baseline it is sent
        second = client.measure(onnx_model, [(1, 3, 16, 16)], repeats=5, warmup=1, reference=ref)
        assert second.reference_ms == 1000.0 and second.median_ms > 10 * first.median_ms
        plain = client.measure(onnx_model, [(1, 3, 16, 16)], repeats=5, warmup=1)
        assert plain.reference_ms is None and plain.speed is None


def test_profiler_keeps_the_baselines_with_its_table(tmp_path):
    space, x = ChoiceSpace(), torch.randn(1, 3, 8, 8)
    prof = DeviceProfiler(space, x, measurer=FakeMeasurer(), cache_dir=tmp_path, calibration=2, progress=False)
    assert isinstance(prof.measurer.reference, SpeedReference) and prof.table.meta["speed_reference"] is True
    prof.measurer.reference.baselines["fake/1/wall"] = 3.25  # what a real measurer would have set
    prof.table.meta["reference_baselines"] = dict(prof.measurer.reference.baselines)
    prof.table.save(prof.cache_file)
    again = DeviceProfiler(space, x, measurer=FakeMeasurer(), cache_dir=tmp_path, calibration=2, progress=False)
    assert not again.rebuilt and again.measurer.reference.baselines == {"fake/1/wall": 3.25}
    off = DeviceProfiler(space, x, measurer=FakeMeasurer(), cache_dir=tmp_path, calibration=2, progress=False,
                         speed_reference=False)
    assert off.rebuilt and off.measurer.reference is None  # a table without the reference is another table

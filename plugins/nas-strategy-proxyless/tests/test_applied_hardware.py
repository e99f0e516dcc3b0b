"""Seed 003's applied_hardware: nn-Meter's four devices, 'flops', registry names, profiler objects."""
import pytest
import torch

import nas_strategy_proxyless.hardware as hardware
from nas_core import Profiler
from nas_core.errors import ConfigError, UnknownComponentError
from nas_core.oneshot.estimator import EstimatedExpectationProfiler
from nas_core.testing.seed_models import MobileNet
from nas_strategy_proxyless.hardware import NN_METER_DEVICES, resolve_hardware

DUMMY = torch.zeros(1, 3, 16, 16)


@pytest.mark.parametrize("device", NN_METER_DEVICES)
def test_nn_meter_devices_use_the_nn_meter_predictor_or_say_how_to_get_one(device, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no predictor unpacked where nn-Meter keeps them
    from nas_profiler_nnmeter import PredictorNotFoundError

    with pytest.raises(PredictorNotFoundError) as err:
        resolve_hardware(device, MobileNet(), DUMMY)
    text = str(err.value)
    assert device in text and "build_predictor" in text


def test_nn_meter_device_without_the_plugin_says_what_to_install(monkeypatch):
    def missing(kind, name):
        raise UnknownComponentError(f"no {kind} named {name!r}")

    monkeypatch.setattr(hardware, "get_component", missing)
    with pytest.raises(ConfigError, match="pip install nas-profiler-nnmeter.*build_predictor"):
        resolve_hardware("adreno640gpu_tflite21", MobileNet(), DUMMY)


def test_flops_and_objects():
    model = MobileNet()
    flops = resolve_hardware("flops", model, DUMMY)
    assert flops.profile({"block1": 2, "block2": 1}) < flops.profile({"block1": 1, "block2": 0})
    assert resolve_hardware(flops, model, DUMMY) is flops

    class Table(Profiler):
        unit = "ms"

        def profile(self, sample):
            return 1.0 + sample["block1"]

    wrapped = resolve_hardware(Table(), model, DUMMY)
    assert isinstance(wrapped, EstimatedExpectationProfiler) and wrapped.labels == ["block1"]
    with pytest.raises(UnknownComponentError):
        resolve_hardware("flopz", model, DUMMY)
    with pytest.raises(ConfigError, match="applied_hardware must be a name"):
        resolve_hardware(42, model, DUMMY)

"""A DeviceProfiler's fingerprint (what a resumed search must find unchanged) is how figures are taken,
not whether its table was just built or loaded from disk."""
from __future__ import annotations

import torch

from devprof_testkit import FakeMeasurer, TinySpace
from nas_core.experiment.fingerprint import component_fingerprint
from nas_profiler_device import DeviceProfiler

X = torch.zeros(1, 3, 8, 8)


def _profiler(tmp_path, **kw):
    return DeviceProfiler(TinySpace(), X, cache_dir=tmp_path, progress=False, measurer=FakeMeasurer(**kw),
                          calibration=2)


def test_built_and_loaded_tables_have_one_fingerprint_and_measurement_options_count(tmp_path):
    built = _profiler(tmp_path)
    loaded = _profiler(tmp_path)
    assert built.rebuilt and not loaded.rebuilt
    fp = component_fingerprint(built)
    assert fp == component_fingerprint(loaded)
    assert fp["mode"] == "lut" and fp["threads"] == 1 and fp["input_shapes"] == [[1, 3, 8, 8]]
    other = component_fingerprint(_profiler(tmp_path, threads=2))
    assert other["threads"] == 2 and other != fp

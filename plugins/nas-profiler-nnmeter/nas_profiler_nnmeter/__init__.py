"""nas-profiler-nnmeter: nn-Meter latency prediction for nas-core model spaces.

``NnMeterProfiler(space, dummy_input, predictor=...)`` (registry name ``nn-meter``) predicts
latency (ms) at nn-Meter's kernel granularity from nn-Meter kernel regressors. Predictors
for your own device are built from measured kernel latencies with :func:`build_predictor`,
registered with :func:`register_predictor`, and refitted after library upgrades with
:func:`rebuild_predictor`. Nothing is ever downloaded.
"""
import nas_core

from nas_profiler_nnmeter.errors import PredictorBuildError, PredictorLoadError, PredictorNotFoundError
from nas_profiler_nnmeter.predictors import (
    data_home,
    load_predictor,
    published_predictors,
    register_predictor,
    registered_predictors,
    resolve_predictor,
    unregister_predictor,
)
from nas_profiler_nnmeter.profiler import NnMeterProfiler

__all__ = [
    "NnMeterProfiler",
    "PredictorBuildError",
    "PredictorLoadError",
    "PredictorNotFoundError",
    "UnstableMeasurementError",
    "build_predictor",
    "data_home",
    "load_predictor",
    "published_predictors",
    "rebuild_predictor",
    "register_predictor",
    "registered_predictors",
    "resolve_predictor",
    "unregister_predictor",
]


def __getattr__(name):  # the builder imports sklearn/torch helpers lazily
    if name in ("build_predictor", "rebuild_predictor", "KernelConfig", "default_kernel_configs"):
        from nas_profiler_nnmeter import builder

        return getattr(builder, name)
    if name == "UnstableMeasurementError":  # raised by build_predictor when two half-builds disagree
        from nas_profiler_device.protocol import UnstableMeasurementError

        return UnstableMeasurementError
    raise AttributeError(f"module 'nas_profiler_nnmeter' has no attribute {name!r}")


@nas_core.hookimpl
def register_profilers(register):
    register("nn-meter", NnMeterProfiler)

"""``applied_hardware``: from seed 003's names to a profiler with a differentiable expected cost.

* nn-Meter's four devices (:data:`NN_METER_DEVICES`) build the ``nn-meter`` profiler with
  that predictor (from where nn-Meter keeps it; nothing is downloaded);
* ``"flops"`` (as in the official ProxylessNAS), ``"params"`` or any other profiler registry
  name is built with ``nas_core.create("profiler", name, model_space, dummy_input)``;
* a profiler object is used as it is.

A profiler without ``expectation`` (a lookup table, a measured latency) gets the estimated one
of :mod:`nas_core.oneshot.estimator`.
"""
from __future__ import annotations

import logging
from typing import Any

from torch import nn

import nas_core
from nas_core.errors import ConfigError, UnknownComponentError
from nas_core.oneshot.estimator import with_expectation
from nas_core.registry import get as get_component

__all__ = ["NN_METER_DEVICES", "resolve_hardware"]

log = logging.getLogger("nas_core.oneshot")

#: the devices nn-Meter ships predictors for (seed 003)
NN_METER_DEVICES = ("cortexA76cpu_tflite21", "adreno640gpu_tflite21", "adreno630gpu_tflite21",
                    "myriadvpu_openvino2019r2")


def resolve_hardware(applied_hardware: Any, model_space: nn.Module, dummy_input: Any) -> Any:
    """The profiler ``applied_hardware`` names, built on ``model_space`` with ``dummy_input``."""
    if not isinstance(applied_hardware, str):
        if not callable(getattr(applied_hardware, "profile", None)):
            raise ConfigError(
                f"applied_hardware must be a name (an nn-Meter device such as 'cortexA76cpu_tflite21', 'flops', or a "
                f"profiler registry name) or a profiler object, got {type(applied_hardware).__name__}."
            )
        return with_expectation(applied_hardware, model_space)
    if applied_hardware in NN_METER_DEVICES:
        try:
            component = get_component("profiler", "nn-meter")
        except UnknownComponentError:
            raise ConfigError(
                f"applied_hardware={applied_hardware!r} is an nn-Meter device, and its latency comes from the nn-meter "
                "profiler, which is not installed: pip install nas-profiler-nnmeter (then put nn-Meter's predictor "
                f"files for {applied_hardware} where nn-Meter keeps them, ~/.nn_meter/data/predictor/), or build a "
                "predictor for your own device with nas_profiler_nnmeter.build_predictor (docs/nn-meter.md)."
            ) from None
        log.debug("applied_hardware %r: nn-meter profiler with predictor %r", applied_hardware, applied_hardware)
        return component.factory(model_space, dummy_input, predictor=applied_hardware)
    log.debug("applied_hardware %r: profiler from the registry", applied_hardware)
    return with_expectation(nas_core.create("profiler", applied_hardware, model_space, dummy_input), model_space)

"""nas-profiler-device: on-device latency for nas-core.

* :mod:`nas_profiler_device.measure`: ``measure_latency(model_or_onnx, inputs, backend=..., ...) -> Measurement``
* :class:`AgentClient` / ``nas device-agent``: measure on a remote device over HTTP
* :class:`DeviceProfiler` (registry name ``device``): per-block latency lookup tables with calibration
* :mod:`nas_profiler_device.protocol`: the measurement protocol every table and predictor is built with
  (:class:`MeasurementProtocol`; :class:`UnstableMeasurementError` when two half-builds disagree)
"""
from __future__ import annotations

from typing import Any

import nas_core

from nas_profiler_device.agent_client import AgentClient
from nas_profiler_device.errors import DeviceAgentError, MeasurementError
from nas_profiler_device.measure import Measurement, export_onnx, measure_latency
from nas_profiler_device.profiler import DeviceProfiler
from nas_profiler_device.protocol import MeasurementProtocol, UnstableMeasurementError

__all__ = ["AgentClient", "DeviceProfiler", "DeviceAgentError", "Measurement", "MeasurementError", "MeasurementProtocol",
           "UnstableMeasurementError", "export_onnx", "measure_latency"]


@nas_core.hookimpl
def register_profilers(register: Any) -> None:
    register("device", DeviceProfiler)


@nas_core.hookimpl
def register_commands(cli: Any) -> None:
    from nas_profiler_device.cli import device_agent_command

    cli.add_command(device_agent_command)

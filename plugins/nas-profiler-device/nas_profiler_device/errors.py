"""Errors of the device profiler (all are :class:`nas_core.errors.ProfilerError`)."""
from __future__ import annotations

from nas_core.errors import ProfilerError

__all__ = ["MeasurementError", "DeviceAgentError"]


class MeasurementError(ProfilerError):
    """A model could not be measured (bad input, unknown backend, export or run failure)."""


class DeviceAgentError(ProfilerError):
    """The remote device agent could not be reached, refused the request, or failed to measure."""

"""nas-profiler-params: ``NumParamsProfiler`` (registry name ``params``)."""
from __future__ import annotations

import nas_core
from nas_profiler_params.profiler import NumParamsProfiler

__all__ = ["NumParamsProfiler"]


@nas_core.hookimpl
def register_profilers(register):
    register("params", NumParamsProfiler)

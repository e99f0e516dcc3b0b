"""nas-core pruner ``median``: the median stopping rule (NNI's Medianstop assessor)."""
from __future__ import annotations

import nas_core
from nas_pruner_median.pruner import MedianStop

__all__ = ["MedianStop"]


@nas_core.hookimpl
def register_pruners(register):
    register("median", MedianStop)

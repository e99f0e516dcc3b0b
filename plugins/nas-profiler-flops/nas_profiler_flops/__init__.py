"""nas-profiler-flops: ``FlopsProfiler`` (registry name ``flops``).

MACs by default, exactly FlopCounterMode's count / 2 on the frozen model; 2*MACs with
``unit="flops"``. Needs formulas for every op of the space: nas-shapes-torch (a
dependency) covers torch.nn; nas-shapes-mobile adds mobile blocks.
"""
from __future__ import annotations

import nas_core
from nas_profiler_flops.profiler import FlopsProfiler
from nas_profiler_flops.reference import flop_counter_mapping, reference_flops, reference_macs

__all__ = ["FlopsProfiler", "flop_counter_mapping", "reference_flops", "reference_macs"]


@nas_core.hookimpl
def register_profilers(register):
    register("flops", FlopsProfiler)

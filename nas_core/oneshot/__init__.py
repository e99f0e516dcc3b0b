"""One-shot search machinery, written once for every one-shot strategy.

* :class:`Supernet`: a copy of a model space whose decisions are mixed layers
  (:mod:`nas_core.oneshot.mixed`), with architecture logits (:class:`ArchParameters`)
  kept apart from the weights;
* penalties and filters: :class:`ExpectationProfilerPenalty`, :class:`SampleProfilerPenalty`,
  :class:`RangeProfilerFilter`;
* :func:`split_loaders`: separate weight and architecture data from a trainer;
* :class:`BaseOneShot`: seeding, data and export shared by DARTS, ENAS and ProxylessNAS
  (plugins ``nas-strategy-darts``, ``nas-strategy-enas``, ``nas-strategy-proxyless``).
"""
from nas_core.oneshot.base import BaseOneShot
from nas_core.oneshot.callbacks import ArchitectureCheckpoint, Callback, LRSchedulerCallback, ModelCheckpoint
from nas_core.oneshot.data import forever, split_loaders, to_device
from nas_core.oneshot.mixed import (
    ExprDistribution,
    MixedInputChoice,
    MixedLayerChoice,
    MixedRepeat,
    MixedWidthLayer,
    MixState,
)
from nas_core.oneshot.penalty import (
    ExpectationProfilerPenalty,
    NoFeasibleSampleError,
    ProfilerPenalty,
    RangeProfilerFilter,
    SampleProfilerPenalty,
    check_penalty,
)
from nas_core.oneshot.supernet import ArchParameters, Supernet

__all__ = [
    "Callback",
    "LRSchedulerCallback",
    "ArchitectureCheckpoint",
    "ModelCheckpoint",
    "ArchParameters",
    "BaseOneShot",
    "ExpectationProfilerPenalty",
    "ExprDistribution",
    "MixState",
    "MixedInputChoice",
    "MixedLayerChoice",
    "MixedRepeat",
    "MixedWidthLayer",
    "NoFeasibleSampleError",
    "ProfilerPenalty",
    "RangeProfilerFilter",
    "SampleProfilerPenalty",
    "Supernet",
    "check_penalty",
    "forever",
    "split_loaders",
    "to_device",
]

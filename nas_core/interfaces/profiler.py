"""Profiler: the cost of a sample (FLOPs, parameters, latency...) in a stated unit."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterable, Mapping, Protocol

import torch

__all__ = ["Profiler", "ProfilesSamples"]


class ProfilesSamples(Protocol):
    """What an experiment takes as a profiler: any object with ``profile(sample) -> float`` (a :class:`Profiler`, or
    an object of your own with that one method)."""

    def profile(self, sample: Mapping[str, object]) -> float:
        """The cost of ``sample``."""
        ...


class Profiler(ABC):
    """Built once on a model space (and a dummy input), then ``profile(sample)`` is fast.

    Subclasses set :attr:`unit` (``"MACs"``, ``"params"``, ``"ms"``...) and implement
    :meth:`profile`. Those that can also implement :meth:`expectation`, which one-shot
    penalties are built on.
    """

    unit: ClassVar[str] = ""
    #: the metric name used in results, e.g. "flops" or "latency"
    metric: ClassVar[str] = "cost"

    @abstractmethod
    def profile(self, sample: Mapping[str, object]) -> float:
        """The cost of ``sample`` in :attr:`unit`."""

    def profile_batch(self, samples: Iterable[Mapping[str, object]]) -> list[float]:
        """The costs of many samples (override for a vectorised form)."""
        return [self.profile(s) for s in samples]

    def expectation(self, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Expected cost when each label is drawn independently with ``probs[label]``.

        ``probs[label]`` is a 1-D tensor over the label's domain (in domain order). The
        result is a scalar tensor whose gradient reaches the probabilities.
        """
        raise NotImplementedError(
            f"{type(self).__name__} cannot compute the expected cost under probabilities; use a "
            "profiler with an expectation (flops, params, device, nn-meter) for one-shot penalties."
        )

    def __call__(self, sample: Mapping[str, object]) -> float:
        return self.profile(sample)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(unit={self.unit!r})"

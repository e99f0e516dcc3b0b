"""CostModelProfiler: the shared base of profilers answering from a compiled CostModel."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import torch

from nas_core.interfaces.profiler import Profiler
from nas_core.shapes.costmodel import CostModel
from nas_core.shapes.trace import ShapeTrace, validity_error

__all__ = ["CostModelProfiler"]


class CostModelProfiler(Profiler):
    """A profiler whose ``profile`` is a :class:`CostModel` lookup.

    Subclasses build ``self.cost_model`` (and ``self.trace`` when shape checks apply) in
    their constructor. A NaN total means the sample failed a shape check: it is reported
    as an :class:`~nas_core.errors.ArchitectureError` naming the sample and the layer.
    """

    cost_model: CostModel
    trace: ShapeTrace | None = None

    def profile(self, sample: Mapping[str, object]) -> float:
        v = self.cost_model.evaluate(sample)
        if v != v:  # NaN: an invalid architecture
            self._raise_invalid(sample)
        return v

    def profile_batch(self, samples: Iterable[Mapping[str, object]]) -> list[float]:
        samples = list(samples)
        out = self.cost_model.evaluate_batch(samples)
        for s, v in zip(samples, out):
            if v != v:
                self._raise_invalid(s)
        return out.tolist()

    def expectation(self, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.cost_model.expectation(probs)

    def _raise_invalid(self, sample: Mapping[str, Any]) -> None:
        sample = self.cost_model.space.validate(sample)
        err = validity_error(self.trace, sample) if self.trace is not None else None
        if err is not None:
            raise err
        raise ArithmeticError(f"{type(self).__name__} produced NaN for sample {sample}.")

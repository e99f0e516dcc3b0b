"""NumParamsProfiler: ``sum(p.numel() for p in frozen.parameters())`` of every sample, exactly."""
from __future__ import annotations

from typing import Any, Mapping

from torch import nn

from nas_core.shapes import CostModel, CostModelProfiler, param_terms
from nas_core.space.model_space import search_space

__all__ = ["NumParamsProfiler"]


class NumParamsProfiler(CostModelProfiler):
    """The number of parameters of the frozen model of a sample.

    Built from the model's structure alone (which module exists for which sample, and
    how a mutable layer's weights are sliced), so no dummy input is needed; one may be
    passed for symmetry with the other profilers and is ignored. Parameters that two
    modules share are refused with an error rather than counted twice.
    """

    unit = "params"
    metric = "params"

    def __init__(self, model_space: nn.Module, dummy_input: Any = None) -> None:
        self.space = search_space(model_space)
        self.terms = param_terms(model_space)
        self.cost_model = CostModel(self.space, self.terms, unit=self.unit)

    def breakdown(self, sample: Mapping[str, Any]) -> dict[str, float]:
        """Parameters of ``sample`` per module path; sums to :meth:`profile`."""
        sample = self.space.validate(sample)
        return {t.origin.rsplit(":", 1)[0]: v for t in self.terms if (v := t(sample))}

    def __repr__(self) -> str:
        return f"NumParamsProfiler(unit='params', {self.cost_model.describe()})"

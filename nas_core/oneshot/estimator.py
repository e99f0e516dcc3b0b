"""A differentiable expected cost for any profiler, even one with only ``profile(sample)``.

Differentiable one-shot strategies penalise ``E[cost]`` under the architecture
probabilities. Profilers on the shape engine compute it exactly (``expectation``); a
lookup table or a measured latency only answers ``profile(sample)``.
:class:`EstimatedExpectationProfiler` adds ``expectation(probs)`` to such a profiler:

1. it finds the labels the cost depends on: the profiler's ``depends_on`` attribute when it
   declares one, else by probing: each label is varied over its domain on the default
   sample, ``probes - 1`` random samples and (within ``probe_budget`` profile calls) the
   default with any one other label changed, so a label that matters only under another
   label's value is found too; a label whose values never change the cost is left out.
   (An interaction of three or more labels can escape probing: declare ``depends_on``.)
2. **exact enumeration** when the dependent labels have at most ``max_enumerate`` value
   combinations: the cost of each combination (the other labels at their defaults) is
   profiled once, and ``E[cost] = sum_combo prod_l p_l[i_l] * cost[combo]``: exact and
   differentiable;
3. otherwise a **score-function estimate** (REINFORCE): ``num_samples`` samples drawn from
   the probabilities (every label); the value is their mean cost (an unbiased estimate of ``E[cost]``) and
   the gradient is ``mean_k (c_k - b_k) * grad log p(s_k)`` with the leave-one-out baseline
   ``b_k`` (unbiased too). Costs are cached per sample.
"""
from __future__ import annotations

import itertools
import logging
import math
import random
from typing import Any, Mapping

import torch
from torch import nn

from nas_core.checks import check_int
from nas_core.errors import ConfigError, ConfigTypeError
from nas_core.interfaces.profiler import Profiler
from nas_core.space.model_space import search_space
from nas_core.space.search_space import SearchSpace, sample_key

__all__ = ["EstimatedExpectationProfiler", "with_expectation"]

log = logging.getLogger("nas_core.oneshot")


class EstimatedExpectationProfiler(Profiler):
    """``profiler`` plus an ``expectation(probs)`` (exact enumeration, or a score-function estimate)."""

    def __init__(self, profiler: Profiler, space: SearchSpace | nn.Module, *, max_enumerate: int = 256,
                 num_samples: int = 16, probes: int = 4, probe_budget: int = 4096, seed: int = 0) -> None:
        if not callable(getattr(profiler, "profile", None)):
            raise ConfigTypeError(f"expected a profiler with profile(sample) -> float, got {type(profiler).__name__}.")
        for name, value, low in (("max_enumerate", max_enumerate, 1), ("num_samples", num_samples, 2),
                                 ("probes", probes, 1), ("probe_budget", probe_budget, 0)):
            check_int("EstimatedExpectationProfiler", name, value, low)
        self.profiler = profiler
        self.space = space if isinstance(space, SearchSpace) else search_space(space)
        self.unit = getattr(profiler, "unit", "")  # type: ignore[misc]
        self.metric = getattr(profiler, "metric", "cost")  # type: ignore[misc]
        self.num_samples = num_samples
        self.probe_budget = probe_budget
        self._cache: dict[str, float] = {}
        self._rng = torch.Generator().manual_seed(seed)
        self.base = self.space.default()
        self.labels = self._dependent_labels(probes, seed)
        sizes = [len(self.space.choices[l].domain) for l in self.labels]
        self.combinations = math.prod(sizes)
        self.exact = self.combinations <= max_enumerate
        self.table: torch.Tensor | None = None
        if self.exact:
            costs = [self.cost(self._with(dict(zip(self.labels, combo))))
                     for combo in itertools.product(*(self.space.choices[l].domain for l in self.labels))]
            self.table = torch.tensor(costs, dtype=torch.float64).reshape(sizes) if self.labels else \
                torch.tensor(costs[0], dtype=torch.float64)
        log.debug("%s: cost depends on %s (%d combinations): %s", type(profiler).__name__, self.labels,
                  self.combinations, "exact enumeration" if self.exact else f"score-function estimate, {num_samples} samples")

    # -- Profiler ------------------------------------------------------------------------------
    def profile(self, sample: Mapping[str, object]) -> float:
        return float(self.profiler.profile(sample))

    def cost(self, sample: Mapping[str, object]) -> float:
        """``profile(sample)``, cached per sample."""
        key = sample_key(sample)
        if key not in self._cache:
            self._cache[key] = float(self.profiler.profile(dict(sample)))
        return self._cache[key]

    def _with(self, values: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {**(self.base if base is None else base), **values}

    def _dependent_labels(self, probes: int, seed: int) -> list[str]:
        declared = getattr(self.profiler, "depends_on", None)
        if declared is not None:
            unknown = [l for l in declared if l not in self.space.choices]
            if unknown:
                raise ConfigError(f"{type(self.profiler).__name__}.depends_on names {unknown}, which the space does not "
                                  f"have; its labels are {self.space.labels}.")
            return [l for l in self.space.labels if l in set(declared)]
        rng = random.Random(seed)
        bases = [self.base] + [self.space.random(rng) for _ in range(probes - 1)]
        # one other label changed at a time: catches a label that matters only under another's value
        singles = [{**self.base, m: v} for m in self.space.labels for v in self.space.choices[m].domain[1:]]
        width = sum(len(c.domain) for c in self.space.choices.values())
        if width * (len(bases) + len(singles)) <= self.probe_budget:
            bases += singles
        found = []
        for label in self.space.labels:
            domain = self.space.choices[label].domain
            if any(len({self.cost(self._with({label: v}, b)) for v in domain}) > 1 for b in bases):
                found.append(label)
        return found

    def expectation(self, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``E[cost]`` under independent per-label ``probs``: exact, or an unbiased estimate (see the module)."""
        missing = [l for l in self.labels if l not in probs]
        if missing:
            raise ConfigError(f"expectation needs probabilities for {missing}.")
        ref = next(iter(probs.values())) if probs else torch.zeros(())
        if self.exact:
            assert self.table is not None
            out = self.table.to(ref.device, ref.dtype)
            for label in self.labels:  # contract one label at a time
                out = torch.tensordot(probs[label], out, dims=([0], [0]))
            return out
        return self._score_function(probs, ref)

    def _score_function(self, probs: Mapping[str, torch.Tensor], ref: torch.Tensor) -> torch.Tensor:
        costs, logps = [], []
        dependent = set(self.labels)
        for _ in range(self.num_samples):
            values, logp = {}, ref.new_zeros(())
            for label in self.space.labels:  # every label drawn: the value stays unbiased if probing missed one
                p = probs.get(label)
                if p is None:
                    continue
                i = int(torch.multinomial(p.detach().float().cpu(), 1, generator=self._rng))
                values[label] = self.space.choices[label].domain[i]
                if label in dependent:  # the others' score terms are zero on average: left out, less variance
                    logp = logp + torch.log(p[i].clamp_min(1e-12))
            costs.append(self.cost(self._with(values)))
            logps.append(logp)
        c = torch.tensor(costs, dtype=ref.dtype, device=ref.device)
        k = len(costs)
        baseline = (c.sum() - c) / (k - 1)  # leave-one-out: independent of each sample, so unbiased
        lp = torch.stack(logps)
        return c.mean() + ((c - baseline) * (lp - lp.detach())).mean()

    def __repr__(self) -> str:
        how = "exact" if self.exact else f"score-function x{self.num_samples}"
        return f"EstimatedExpectationProfiler({self.profiler!r}, labels={self.labels}, {how})"


def with_expectation(profiler: Profiler, space: SearchSpace | nn.Module | None = None,
                     **options: Any) -> Profiler:
    """``profiler`` itself when it has an exact ``expectation``, else wrapped in :class:`EstimatedExpectationProfiler`.

    The space comes from ``space`` or the profiler's ``space`` attribute.
    """
    fn = getattr(type(profiler), "expectation", None)
    if callable(fn) and fn is not Profiler.expectation:
        return profiler
    space = space if space is not None else getattr(profiler, "space", None)
    if not isinstance(space, (SearchSpace, nn.Module)):
        raise ConfigTypeError(
            f"{type(profiler).__name__} has no expectation(probs), so the expected cost is estimated from "
            "profile(sample) over the space's samples; pass the model space too, e.g. "
            "ExpectationProfilerPenalty(profiler, baseline, space=model_space) (or give the profiler a .space)."
        )
    return EstimatedExpectationProfiler(profiler, space, **options)

"""Hardware penalties and filters for one-shot strategies (seeds 000 and 002).

* :class:`ExpectationProfilerPenalty` (differentiable strategies: DARTS, ProxylessNAS):
  the expected cost under the architecture probabilities, ``profiler.expectation(probs)``,
  a torch scalar whose gradient reaches the architecture logits.
* :class:`SampleProfilerPenalty` (sampling strategies: ENAS): the cost of the sampled
  architecture shapes the reward.
* :class:`RangeProfilerFilter` (sampling strategies): samples outside ``[min, max]`` are
  redrawn, and never trained; after ``patience`` draws in a row outside it, a
  :class:`NoFeasibleSampleError` says so.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

import torch
from torch import nn

from nas_core.errors import ConfigError, ConfigTypeError, NasError
from nas_core.interfaces.profiler import Profiler

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = [
    "ProfilerPenalty",
    "ExpectationProfilerPenalty",
    "SampleProfilerPenalty",
    "RangeProfilerFilter",
    "NoFeasibleSampleError",
    "check_penalty",
]

#: a cost or a loss: a tensor (the differentiable penalties) or a float (the sampled ones, and rewards)
CostT = TypeVar("CostT", torch.Tensor, float)

NONLINEAR = ("positive", "absolute", "linear")
AGGREGATE = ("add", "mul")


class NoFeasibleSampleError(NasError, RuntimeError):
    """A filter rejected every sample drawn within its patience."""


def _check_profiler(profiler: Any, who: str) -> None:
    if not callable(getattr(profiler, "profile", None)):
        raise ConfigTypeError(
            f"{who} needs a profiler (an object with profile(sample) -> float, e.g. FlopsProfiler(model_space, "
            f"dummy_input)); got {type(profiler).__name__}."
        )


def _has_expectation(profiler: Any) -> bool:
    fn = getattr(type(profiler), "expectation", None)
    return callable(fn) and fn is not Profiler.expectation


class ProfilerPenalty:
    """Shared arithmetic: ``normalized = (cost - baseline) / baseline`` through ``nonlinear``.

    ``nonlinear``: ``"positive"`` (default: only exceeding the baseline is penalised),
    ``"absolute"`` (any distance from the baseline: a target) or ``"linear"`` (cheaper is
    always better). ``aggregate``: ``"add"`` gives ``loss + scale * normalized``,
    ``"mul"`` gives ``loss * (1 + scale * normalized)``.
    """

    def __init__(self, profiler: Profiler, baseline: float, scale: float = 1.0, *, nonlinear: str = "positive",
                 aggregate: str = "add") -> None:
        who = type(self).__name__
        _check_profiler(profiler, who)
        if isinstance(baseline, bool) or not isinstance(baseline, (int, float)) or not baseline > 0:
            raise ConfigError(f"{who} baseline must be a positive number in the profiler's unit, got {baseline!r}.")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale >= 0:
            raise ConfigError(f"{who} scale must be a number >= 0, got {scale!r}.")
        if nonlinear not in NONLINEAR:
            raise ConfigError(f"{who} nonlinear must be one of {NONLINEAR}, got {nonlinear!r}.")
        if aggregate not in AGGREGATE:
            raise ConfigError(f"{who} aggregate must be one of {AGGREGATE}, got {aggregate!r}.")
        self.profiler = profiler
        self.baseline = float(baseline)
        self.scale = float(scale)
        self.nonlinear = nonlinear
        self.aggregate = aggregate
        self.last_cost: float | None = None

    def normalized(self, cost: CostT) -> CostT:
        """``nonlinear((cost - baseline) / baseline)`` (tensor in, tensor out)."""
        x = (cost - self.baseline) / self.baseline
        if self.nonlinear == "positive":
            return torch.relu(x) if isinstance(x, torch.Tensor) else max(x, 0.0)
        if self.nonlinear == "absolute":
            return x.abs() if isinstance(x, torch.Tensor) else abs(x)
        return x

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({type(self.profiler).__name__}, baseline={self.baseline:g}, scale={self.scale:g}, "
                f"nonlinear={self.nonlinear!r}, aggregate={self.aggregate!r})")


class ExpectationProfilerPenalty(ProfilerPenalty):
    """A differentiable penalty on the expected cost: ``penalty(loss, probs)``.

    ``probs`` maps each label to its probabilities (the softmax of its logits); the
    expected cost is ``profiler.expectation(probs)``, exact and differentiable, so the
    penalty's gradient moves the architecture logits (FlopsProfiler, NumParamsProfiler and
    every CostModelProfiler implement it). A profiler without ``expectation`` (a lookup
    table, a measured latency) is wrapped in
    :class:`~nas_core.oneshot.estimator.EstimatedExpectationProfiler` over ``space`` (or the
    profiler's ``.space``): exact enumeration over the labels its cost depends on when they
    are few, else an unbiased score-function estimate; ``estimator`` passes its options.
    """

    def __init__(self, profiler: Profiler, baseline: float, scale: float = 1.0, *, nonlinear: str = "positive",
                 aggregate: str = "add", space: SearchSpace | nn.Module | None = None,
                 estimator: Mapping[str, Any] | None = None) -> None:
        super().__init__(profiler, baseline, scale, nonlinear=nonlinear, aggregate=aggregate)
        if not _has_expectation(profiler):  # a lookup table, a measured latency: estimate E[cost]
            from nas_core.oneshot.estimator import with_expectation

            self.profiler = with_expectation(profiler, space, **dict(estimator or {}))

    def expected_cost(self, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``profiler.expectation(probs)`` as a torch scalar."""
        cost = self.profiler.expectation(probs)
        if not isinstance(cost, torch.Tensor):
            raise ConfigTypeError(
                f"{type(self.profiler).__name__}.expectation returned {type(cost).__name__}, not a torch tensor: a "
                "Python number carries no gradient to the architecture parameters. Return a torch scalar."
            )
        self.last_cost = float(cost.detach())
        return cost

    def __call__(self, loss: torch.Tensor, probs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``loss`` with the penalty on the expected cost under ``probs``."""
        term = self.scale * self.normalized(self.expected_cost(probs))
        return loss + term if self.aggregate == "add" else loss * (1 + term)


class SampleProfilerPenalty(ProfilerPenalty):
    """A penalty on the cost of one sampled architecture, for sampling strategies (ENAS).

    ``shape_reward(reward, sample)`` gives ``reward - scale * normalized`` (``"add"``) or
    ``reward * (1 - scale * normalized)`` (``"mul"``); ``__call__(loss, sample)`` is the
    loss form (``+`` instead of ``-``).
    """

    def cost(self, sample: Mapping[str, object]) -> float:
        c = float(self.profiler.profile(dict(sample)))
        self.last_cost = c
        return c

    def shape_reward(self, reward: float, sample: Mapping[str, object]) -> float:
        term = self.scale * self.normalized(self.cost(sample))
        return reward - term if self.aggregate == "add" else reward * (1 - term)

    def __call__(self, loss: CostT, sample: Mapping[str, object]) -> CostT:
        term = self.scale * self.normalized(self.cost(sample))
        return loss + term if self.aggregate == "add" else loss * (1 + term)


class RangeProfilerFilter:
    """Only samples whose cost lies in ``[min, max]`` are legal (either bound may be None).

    ``filter(sample) -> bool``. :meth:`draw` calls a sampler until a legal sample comes out,
    at most ``patience`` times, then raises :class:`NoFeasibleSampleError` with the costs it saw.
    """

    def __init__(self, profiler: Profiler, min: float | None = None, max: float | None = None, *,  # noqa: A002
                 patience: int = 100) -> None:
        _check_profiler(profiler, "RangeProfilerFilter")
        for name, v in (("min", min), ("max", max)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v)):
                raise ConfigError(f"RangeProfilerFilter {name} must be a number or None, got {v!r}.")
        if min is None and max is None:
            raise ConfigError("RangeProfilerFilter needs min, max or both; with neither every sample is legal.")
        if min is not None and max is not None and min > max:
            raise ConfigError(f"RangeProfilerFilter min ({min:g}) is above max ({max:g}); swap them.")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ConfigError(f"RangeProfilerFilter patience must be a positive integer, got {patience!r}.")
        self.profiler = profiler
        self.min = min
        self.max = max
        self.patience = patience
        self.rejected = 0

    def cost(self, sample: Mapping[str, object]) -> float:
        return float(self.profiler.profile(dict(sample)))

    def __call__(self, sample: Mapping[str, object]) -> bool:
        c = self.cost(sample)
        return (self.min is None or c >= self.min) and (self.max is None or c <= self.max)

    def describe(self) -> str:
        unit = getattr(self.profiler, "unit", "")
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"[{lo}, {hi}]" + (f" {unit}" if unit else "")

    def draw(self, sampler: Callable[[], Any], key: Callable[[Any], Mapping[str, Any]] = lambda s: s) -> Any:
        """Call ``sampler()`` until ``key(result)`` is legal; raise after ``patience`` misses."""
        seen: list[float] = []
        for _ in range(self.patience):
            out = sampler()
            sample = key(out)
            c = self.cost(sample)
            if (self.min is None or c >= self.min) and (self.max is None or c <= self.max):
                return out
            seen.append(c)
            self.rejected += 1
        unit = getattr(self.profiler, "unit", "")
        raise NoFeasibleSampleError(
            f"RangeProfilerFilter: {self.patience} samples in a row fell outside {self.describe()} (their costs ranged "
            f"{min(seen):g} to {max(seen):g}{' ' + unit if unit else ''}). The range may hold no architecture of "
            "this space, or too few to find by sampling: widen it (check profiler.profile on a few samples), or "
            "raise patience."
        )

    def __repr__(self) -> str:
        return f"RangeProfilerFilter({type(self.profiler).__name__}, {self.describe()}, patience={self.patience})"


def check_penalty(strategy: str, penalty: object, expected: type) -> None:
    """Raise a TypeError naming the right penalty class when ``penalty`` has the wrong kind."""
    if penalty is None or isinstance(penalty, expected):
        return
    other = {ExpectationProfilerPenalty: "differentiable", SampleProfilerPenalty: "sampling-based"}
    raise ConfigTypeError(
        f"{strategy} is {other.get(expected, '')} and takes penalty={expected.__name__}(profiler, baseline), got "
        f"{type(penalty).__name__}. ExpectationProfilerPenalty serves DARTS and ProxylessNAS (its gradient reaches "
        "the architecture logits); SampleProfilerPenalty serves ENAS (it shapes the reward of each sample)."
    )

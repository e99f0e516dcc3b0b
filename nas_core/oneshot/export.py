"""Checked export: rank likely architectures by the supernet's own validation accuracy.

The argmax of an architecture distribution is a guess: weight-sharing search drifts to
cheap, parameter-free paths, and a penalty balances the *expected* cost, not the argmax's.
:func:`checked_export` instead gathers candidates — the ``top_k`` most probable samples
within the budget, ``sampled`` draws from the distribution and ``explore`` uniform draws
filling the budget — scores each with the supernet's inherited weights on validation
batches (as SPOS and Once-for-All do), and returns the best feasible one.

Everything is seeded by the ``generator`` passed in: the same supernet and seed give the
same answer whatever ran before in the process.
"""
from __future__ import annotations

import contextlib
import heapq
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch
from torch import nn

from nas_core.checks import check_choice, check_int, check_number, check_prob
from nas_core.errors import NasError
from nas_core.oneshot.data import count_targets, to_device
from nas_core.oneshot.retrain import RETRAIN_INITS, RETRAIN_ORDERS, best_of, model_accuracy

__all__ = ["Budget", "ExportConfig", "ExportReport", "NoFeasibleExportError", "top_k_samples", "checked_export",
           "recalibrated_batchnorm", "supernet_accuracy", "EXPORT_METHODS"]

EXPORT_METHODS = ("checked", "argmax")


class NoFeasibleExportError(NasError, RuntimeError):
    """No candidate architecture met the budget."""


@dataclass
class Budget:
    """``cost(sample) <= limit`` is feasible; ``limit=None``: every sample is.

    ``hard``: a filter's bound (nothing outside may be exported) rather than a penalty's.
    ``target``: the limit is a target to land near (an ``absolute`` penalty), not only a bound.
    """

    cost: Callable[[Mapping[str, Any]], float]
    limit: float | None = None
    unit: str = ""
    hard: bool = False
    target: bool = False

    def feasible(self, sample: Mapping[str, Any]) -> bool:
        return self.limit is None or float(self.cost(sample)) <= self.limit

    def cached(self) -> "Budget":
        """The same budget, its cost memoised per sample (profilers can be slow)."""
        memo: dict[str, float] = {}
        cost = self.cost

        def cached_cost(sample: Mapping[str, Any]) -> float:
            key = _key(sample)
            if key not in memo:
                memo[key] = float(cost(sample))
            return memo[key]

        return Budget(cached_cost, self.limit, self.unit, self.hard, self.target)


@dataclass
class ExportConfig:
    """Settings of the checked export.

    ``top_k`` most probable samples within the budget, ``sampled`` draws of the
    distribution, ``explore`` uniform draws costing ``explore_floor``..1.0 x the budget
    (``target_floor``..1.0 x a target: an ``absolute`` penalty's baseline, :meth:`floor`),
    each scored on up to ``batches`` batches of the architecture data after its BatchNorm
    statistics are recomputed on ``bn_batches`` batches of the weight data (0: not). Before
    ranking, the shared weights take ``tune_steps`` steps on fair single paths (the
    architecture frozen), so that weights last trained on a mixture judge single paths;
    ``None`` (default): one epoch of the weight data for a strategy whose weights train on
    the weighted mixture of every path (DARTS), none for single-path ones (ENAS, ProxylessNAS).

    Then the ``retrain_top`` candidates with the best supernet accuracy (0: none) are each
    trained alone for ``retrain_steps`` steps (``None``: ``retrain_epochs`` passes over the
    weight data) from ``retrain_init`` weights (``"fresh"``: the space frozen to the
    candidate and re-initialised; ``"inherited"``: the supernet's), ``retrain_repeats`` times
    (other seeds and batch orders), and scored again; the best mean accuracy is exported (:mod:`nas_core.oneshot.retrain`). ``retrain_order`` says which
    candidates those are: ``"supernet"``, the best by supernet accuracy; ``"filling"``, in
    turns the best overall and the best costing at least the floor
    (:func:`~nas_core.oneshot.retrain.filling_the_budget`).
    """

    top_k: int = 8
    sampled: int = 8
    explore: int = 16
    explore_floor: float = 0.7
    target_floor: float = 0.9
    batches: int = 8
    tie_band: float = 1.0
    bn_batches: int = 4
    tune_steps: int | None = None
    retrain_top: int = 8
    retrain_epochs: float = 4.0
    retrain_steps: int | None = None
    retrain_init: str = "fresh"
    retrain_order: str = "filling"
    retrain_repeats: int = 2

    def __post_init__(self) -> None:
        check_int("ExportConfig", "tune_steps", self.tune_steps, 0, allow_none=True)
        check_int("ExportConfig", "retrain_top", self.retrain_top, 0)
        check_number("ExportConfig", "retrain_epochs", self.retrain_epochs, 0.0, strict=True)
        check_int("ExportConfig", "retrain_steps", self.retrain_steps, 1, allow_none=True)
        check_int("ExportConfig", "retrain_repeats", self.retrain_repeats, 1)
        check_choice("ExportConfig", "retrain_init", self.retrain_init, RETRAIN_INITS)
        check_choice("ExportConfig", "retrain_order", self.retrain_order, RETRAIN_ORDERS)
        for name in ("top_k", "sampled", "explore", "batches", "bn_batches"):
            check_int("ExportConfig", name, getattr(self, name), 1 if name in ("top_k", "batches") else 0)
        check_number("ExportConfig", "tie_band", self.tie_band, 0.0)
        check_prob("ExportConfig", "explore_floor", self.explore_floor)
        check_prob("ExportConfig", "target_floor", self.target_floor)

    def floor_share(self, budget: Budget) -> float:
        """The least share of the budget's limit the export aims for: ``target_floor`` of a target,
        ``explore_floor`` of a bound."""
        return self.target_floor if budget.target else self.explore_floor

    def floor(self, budget: Budget) -> float | None:
        """The least cost the export aims for: :meth:`floor_share` x the budget's limit (``None`` without a limit)."""
        return None if budget.limit is None else self.floor_share(budget) * budget.limit


@dataclass
class ExportReport:
    """What :func:`checked_export` did: the method, and each ranked candidate's score.

    With retraining: ``supernet_pick`` is what the supernet's ranking alone chose,
    ``retrained`` each retrained candidate's scores and ``retrain`` the settings used.
    """

    method: str
    sample: dict[str, Any]
    ranked: list[dict[str, Any]] = field(default_factory=list)
    supernet_pick: dict[str, Any] | None = None
    retrained: list[dict[str, Any]] = field(default_factory=list)
    retrain: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "sample": self.sample, "ranked": self.ranked,
                "supernet_pick": self.supernet_pick, "retrained": self.retrained, "retrain": self.retrain}


def _key(sample: Mapping[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in sample.items()))


def top_k_samples(probs: Mapping[str, torch.Tensor], domains: Mapping[str, Sequence[Any]], k: int,
                  accept: Callable[[Mapping[str, Any]], bool] = lambda s: True,
                  max_visits: int = 20000) -> list[tuple[float, dict[str, Any]]]:
    """The ``k`` most probable accepted samples of a factorised distribution, best first.

    ``probs[label]`` is a probability vector over ``domains[label]``. Best-first search over
    the product (each step moves one label to its next most likely value), visiting at most
    ``max_visits`` samples. Returns ``(log-probability, sample)`` pairs.
    """
    labels = list(domains)
    logp = {l: torch.log(probs[l].detach().double().clamp_min(1e-300)).tolist() for l in labels}
    def most_likely_first(label: str) -> list[int]:
        lp: list[float] = logp[label]
        return sorted(range(len(domains[label])), key=lambda i: (-lp[i], i))

    order = {l: most_likely_first(l) for l in labels}

    def total(ranks: tuple[int, ...]) -> float:
        return sum(logp[l][order[l][r]] for l, r in zip(labels, ranks))

    start = tuple(0 for _ in labels)
    heap = [(-total(start), start)]
    seen = {start}
    out: list[tuple[float, dict[str, Any]]] = []
    visits = 0
    while heap and len(out) < k and visits < max_visits:
        neg, ranks = heapq.heappop(heap)
        visits += 1
        sample = {l: domains[l][order[l][r]] for l, r in zip(labels, ranks)}
        if accept(sample):
            out.append((-neg, sample))
        for j, l in enumerate(labels):
            if ranks[j] + 1 < len(domains[l]):
                nxt = ranks[:j] + (ranks[j] + 1,) + ranks[j + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (-total(nxt), nxt))
    return out


def draw_samples(probs: Mapping[str, torch.Tensor], domains: Mapping[str, Sequence[Any]], n: int,
                 generator: torch.Generator, accept: Callable[[Mapping[str, Any]], bool] = lambda s: True,
                 tries: int = 50) -> list[dict[str, Any]]:
    """Up to ``n`` accepted draws of the factorised distribution (``tries`` draws per wanted sample at most)."""
    out: list[dict[str, Any]] = []
    for _ in range(n * tries):
        if len(out) >= n:
            break
        s = {l: domains[l][int(torch.multinomial(probs[l].detach().float().cpu(), 1, generator=generator))]
             for l in domains}
        if accept(s):
            out.append(s)
    return out


def _batchnorms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and m.running_mean is not None]


@contextlib.contextmanager
def recalibrated_batchnorm(supernet: Any, sample: Mapping[str, Any], batches: Sequence[Any],
                           device: torch.device) -> Iterator[int]:
    """Inside the block, every BatchNorm holds the statistics of ``sample``'s path on ``batches``.

    The running statistics a supernet accumulated belong to a mixture of paths (DARTS' weighted
    sum, or many sampled paths), not to the one being judged; SPOS and Once-for-All recompute
    them per candidate before evaluating it. Here: reset, then a cumulative average over
    ``batches`` run in training mode without gradient; the supernet's own statistics are
    restored on exit. Yields the number of BatchNorm layers recalibrated (0: nothing to do).
    """
    bns = _batchnorms(supernet) if batches else []
    if not bns:
        yield 0
        return
    saved = [(m.running_mean.clone(), m.running_var.clone(),  # type: ignore[union-attr]
              None if m.num_batches_tracked is None else m.num_batches_tracked.clone(), m.momentum) for m in bns]
    was_training = supernet.training
    try:
        supernet.set_sample(sample)
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches
        supernet.train()
        with torch.no_grad():
            for batch in batches:
                supernet(to_device(batch, device)[0])
        supernet.train(was_training)
        yield len(bns)
    finally:
        for m, (mean, var, tracked, momentum) in zip(bns, saved):
            m.running_mean.copy_(mean)  # type: ignore[union-attr]
            m.running_var.copy_(var)  # type: ignore[union-attr]
            if tracked is not None and m.num_batches_tracked is not None:
                m.num_batches_tracked.copy_(tracked)
            m.momentum = momentum
        supernet.train(was_training)


@torch.no_grad()
def supernet_accuracy(supernet: Any, sample: Mapping[str, Any], batches: Sequence[Any], device: torch.device) -> float:
    """Top-1 accuracy of ``sample`` run with the supernet's inherited weights on ``batches`` (eval mode)."""
    supernet.set_sample(sample)
    return model_accuracy(supernet, batches, device)


def checked_export(supernet: Any, batches: Iterable[Any], budget: Budget, *, device: torch.device,
                   generator: torch.Generator, likely: list[dict[str, Any]], sampled: list[dict[str, Any]],
                   explore: int = 0, explore_floor: float = 0.7, tie_band: float = 0.0,
                   calibration: Sequence[Any] = ()) -> ExportReport:
    """Score ``likely`` + ``sampled`` + ``explore`` uniform draws and return the best feasible one.

    ``likely`` and ``sampled`` come from the strategy's distribution (already within the
    budget); ``explore`` more are drawn uniformly from the space, kept when they cost between
    ``explore_floor`` and 1.0 times the budget (so the answer can fill the budget when the
    distribution has drifted to cheap paths). With a ``budget.target``, only the candidates costing at least
    ``explore_floor`` x the target are ranked when there are any. Accuracies within ``tie_band`` binomial standard
    errors of the best are ties, won by the costliest (then the earlier, likelier, candidate).
    With ``calibration`` batches, each candidate's BatchNorm statistics are recomputed on them
    first (:func:`recalibrated_batchnorm`).
    """
    batches = list(batches)
    candidates: list[tuple[str, dict[str, Any]]] = [("likely", s) for s in likely] + [("sampled", s) for s in sampled]
    floor = None if budget.limit is None else explore_floor * budget.limit
    if explore and floor is not None and budget.limit is not None:
        space = supernet.space
        rng = random.Random(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        found = 0
        for _ in range(explore * 50):
            if found >= explore:
                break
            s = space.random(rng)
            c = float(budget.cost(s))
            if floor <= c <= budget.limit:
                candidates.append(("explore", s))
                found += 1
    unique: dict[str, tuple[str, dict[str, Any]]] = {}
    for origin, s in candidates:
        unique.setdefault(_key(s), (origin, s))
    ranked: list[dict[str, Any]] = []
    n_examples = count_targets(batches)
    for origin, s in unique.values():
        if not budget.feasible(s):
            continue
        with recalibrated_batchnorm(supernet, s, calibration, device):
            acc = supernet_accuracy(supernet, s, batches, device)
        ranked.append({"sample": dict(s), "accuracy": acc, "cost": float(budget.cost(s)), "origin": origin})
    if budget.target and floor is not None:  # a target: land near it, the cheaper candidates only when none is
        ranked = [r for r in ranked if r["cost"] >= floor] or ranked
    if not ranked:
        raise NoFeasibleExportError(
            f"checked export: none of {len(unique)} candidate architectures fits the budget "
            f"({budget.limit:g}{' ' + budget.unit if budget.unit else ''}); raise the budget or check the profiler."
        )
    return ExportReport("checked", best_of(ranked, tie_band, n_examples), ranked)

"""Predictor-guided evolution: a surrogate ranks many candidate children before one is proposed."""
from __future__ import annotations

import collections
import heapq
import random
from typing import Any, Mapping

from nas_core.interfaces.strategy import TrialResult
from nas_core.threads import torch_threads
from nas_core.strategy import PendingSamples, SeededStrategy, check_int, random_state, set_random_state, usable_score
from nas_strategy_evolution.surrogate import HammingGP, expected_improvement

__all__ = ["GuidedEvolution"]

Indices = tuple[int, ...]


class GuidedEvolution(SeededStrategy):
    """Evolution whose children are chosen by a Gaussian-process surrogate of the score.

    The first ``initial`` proposals are uniform random samples. Then each ``ask`` builds
    candidate children: every one-label mutation of the ``parents`` best samples so far, some
    two-label mutations, and ``explore`` uniform random samples (at most ``candidates`` in all,
    drawn at random when there are more). A Gaussian process with a Hamming kernel
    (:class:`~nas_strategy_evolution.surrogate.HammingGP`), fitted to the results, ranks them by
    expected improvement; the best one that is new (up to equivalence) and feasible (under a
    predicate handed over by ``Filter``) is proposed. Infeasible candidates are never proposed,
    so no training and no Filter rejection is spent on them.

    Cost per trial stays flat: the model sees the ``window`` most recent results plus the
    ``parents`` best ones (its kernel hyperparameters are re-selected every ``refit_every``
    proposals), so ``ask`` costs O(window**2 * candidates / window) whatever the number of
    trials. The state is the generator, two hyperparameters and the pending samples; the
    results are rebuilt from the history on resume.

    Args:
        initial: random samples before the surrogate is used (>= 2).
        parents: best samples whose mutations are candidates (>= 1).
        candidates: candidates ranked per proposal (>= 1).
        explore: uniform random samples among the candidates (>= 0).
        window: most recent results the surrogate is fitted to (>= 10).
        refit_every: proposals between two selections of the kernel hyperparameters (>= 1).
        seed: overrides the seed the runner passes to ``setup``.
    """

    name = "guided-evolution"

    def __init__(self, initial: int = 10, parents: int = 10, candidates: int = 600, explore: int = 100,
                 window: int = 200, refit_every: int = 10, seed: int | None = None) -> None:
        super().__init__(seed)
        owner = "GuidedEvolution"
        self.initial = check_int(owner, "initial", initial, 2)
        self.parents = check_int(owner, "parents", parents, 1)
        self.candidates = check_int(owner, "candidates", candidates, 1)
        self.explore = check_int(owner, "explore", explore, 0)
        self.window = check_int(owner, "window", window, 10)
        self.refit_every = check_int(owner, "refit_every", refit_every, 1)

    def _setup(self) -> None:
        self._rng = random.Random(self.seed)
        self._pending = PendingSamples()
        self._recent: collections.deque[tuple[Indices, float]] = collections.deque(maxlen=self.window)
        self._best: list[tuple[float, int, Indices]] = []  # min-heap of the `parents` best (score, order, sample)
        self._n_results = 0
        self.n_model = 0  # proposals made with the surrogate
        self.hyper: tuple[float, float] | None = None
        self._gp: HammingGP | None = None

    # -- proposing --------------------------------------------------------------------
    def ask(self) -> dict[str, Any] | None:
        codec, proposals = self._require_setup(), self._require_proposals()
        child = self._guided() if self._n_results >= self.initial else None
        if child is None:
            child = proposals.draw(self._rng)
            if child is None:
                return None
        proposals.mark(child)
        self._pending.add(child)
        return codec.decode(child)

    def _training_set(self) -> tuple[list[Indices], list[float]]:
        data = dict(self._recent)
        for score, _, indices in self._best:
            data[indices] = score
        return list(data), list(data.values())

    def _guided(self) -> Indices | None:
        x, y = self._training_set()
        select = self.hyper is None or self.n_model % self.refit_every == 0
        gp = HammingGP(*(self.hyper or (None, None))).fit(x, y, select=select)
        self.hyper = (gp.gamma, gp.noise)
        self.n_model += 1
        cands = self._candidates()
        if not cands:
            return None
        mean, std = gp.predict(cands)
        with torch_threads(1):
            ei = expected_improvement(mean, std, float(gp.y.max())).tolist()
        order = sorted(range(len(cands)), key=lambda i: -ei[i])
        for i in order:
            c = self.proposals.admissible(cands[i])
            if c is not None:
                return c
        return None

    def _candidates(self) -> list[Indices]:
        sizes = self.codec.sizes
        rng = self._rng
        parents = [indices for _, _, indices in sorted(self._best, reverse=True)]
        out: dict[Indices, None] = {}
        for p in parents:
            for pos, n in enumerate(sizes):
                for v in range(n):
                    if v != p[pos]:
                        out[p[:pos] + (v,) + p[pos + 1:]] = None
        mutable = [pos for pos, n in enumerate(sizes) if n > 1]
        for _ in range(len(parents) * len(mutable)) if len(mutable) > 1 else ():
            p = list(parents[rng.randrange(len(parents))])
            for pos in rng.sample(mutable, 2):
                p[pos] = rng.randrange(sizes[pos])
            out[tuple(p)] = None
        local = list(out)
        budget = max(self.candidates - self.explore, 0)
        if len(local) > budget:
            local = rng.sample(local, budget)
        for _ in range(self.explore):
            local.append(tuple(rng.randrange(n) for n in sizes))
        return local

    # -- learning ---------------------------------------------------------------------
    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        indices = self._require_proposals().told(sample, self._pending)
        self._learn(indices, result)

    def _learn(self, indices: Indices, result: TrialResult) -> None:
        score = usable_score(result)
        if score is None:
            return
        self._recent.append((indices, score))
        entry = (score, -self._n_results, indices)  # older wins ties
        if len(self._best) < self.parents:
            heapq.heappush(self._best, entry)
        elif entry > self._best[0]:
            heapq.heapreplace(self._best, entry)
        self._n_results += 1

    def _restore(self, told: list[tuple[Indices, TrialResult]]) -> None:
        for indices, result in told:
            self._learn(indices, result)

    # -- state ------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"rng": random_state(self._rng), "pending": self._pending.to_state(),
                "n_model": self.n_model, "hyper": list(self.hyper) if self.hyper else None}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        set_random_state(self._rng, state["rng"])
        self._pending = PendingSamples(state["pending"])
        for indices in self._pending:
            self.proposals.mark(indices)
        self.n_model = int(state["n_model"])
        self.hyper = tuple(state["hyper"]) if state["hyper"] else None

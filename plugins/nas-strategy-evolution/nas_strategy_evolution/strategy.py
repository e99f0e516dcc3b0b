"""Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image
Classifier Architecture Search" (AAAI)."""
from __future__ import annotations

import collections
import math
import random
from typing import Any, Mapping

from nas_core.errors import ConfigError
from nas_core.interfaces.strategy import SUCCEEDED, TrialResult
from nas_core.strategy import (
    PendingSamples, SeededStrategy, check_int, check_prob, random_state, set_random_state, usable_score,
)

__all__ = ["RegularizedEvolution", "default_population_size"]

Indices = tuple[int, ...]


def default_population_size(n_samples: int) -> int:
    """The population used when none is given: about sqrt(#samples), within [10, 100].

    Real et al. used 100 on a huge space; on a small space (a few hundred samples) a
    population of 100 would spend most of the budget on the random initial population.
    """
    return int(min(100, max(10, round(math.sqrt(n_samples)))))


class RegularizedEvolution(SeededStrategy):
    """Aging evolution.

    Until ``population_size`` trials have succeeded, samples are drawn at random. Then each
    ``ask`` runs a tournament: ``sample_size`` members drawn at random from the population,
    the best-scoring one is the parent, and its child is a mutation of it. A mutation
    re-draws each label with probability ``mutation_prob``, always to a *different* value,
    and changes at least one label. Each successful result joins the population and the
    oldest member dies (aging), whatever its score.

    Failed trials and rejected ones (including ``Filter(metric_if_rejected=x)`` penalties)
    do not enter the population; with ``dedup`` they, like every proposed sample and every
    sample equivalent to one (same canonical form), are never proposed again. A feasibility
    predicate handed over by middleware (``Filter``) keeps every child and random sample
    feasible: infeasible mutations are redrawn, never proposed. The saved state holds no
    population and no seen-set: both are rebuilt from the history on resume. When a mutation only yields samples already proposed
    (``max_mutation_tries`` tournaments), a random unseen sample is proposed instead, and
    ``ask`` returns None once every sample has been proposed.

    Args:
        population_size: members kept alive (>= 2). None: ``default_population_size``
            of the space (about sqrt(#samples), between 10 and 100).
        sample_size: tournament size, 1..population_size. None: half the population
            (at least 2). Greedier than Real et al.'s quarter (100/25), which suits the
            budgets of a few dozen to a few hundred trials; pass
            ``population_size=100, sample_size=25`` to reproduce the paper's setting.
        mutation_prob: per-label mutation probability in [0, 1]; at least one label
            always mutates. None: 1 / (number of labels with more than one value), so
            one label changes on average.
        dedup: never propose a sample twice.
        max_mutation_tries: tournaments tried for an unseen child before falling back to
            a random unseen sample.
        seed: overrides the seed the runner passes to ``setup``.
    """

    name = "regularized-evolution"

    def __init__(self, population_size: int | None = None, sample_size: int | None = None,
                 mutation_prob: float | None = None, dedup: bool = True, max_mutation_tries: int = 50,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        owner = "RegularizedEvolution"
        self.population_size_option = check_int(owner, "population_size", population_size, 2, allow_none=True)
        self.sample_size_option = check_int(owner, "sample_size", sample_size, 1, allow_none=True)
        if population_size is not None and sample_size is not None and sample_size > population_size:
            raise ConfigError(
                f"RegularizedEvolution: sample_size ({sample_size}) cannot exceed population_size "
                f"({population_size}); the tournament draws sample_size distinct members of the population. "
                "Lower sample_size or raise population_size."
            )
        self.mutation_prob_option = check_prob(owner, "mutation_prob", mutation_prob, allow_none=True)
        if not isinstance(dedup, bool):
            raise ConfigError(f"RegularizedEvolution: dedup must be True or False, got {dedup!r}.")
        self.dedup = dedup
        self.max_mutation_tries = check_int(owner, "max_mutation_tries", max_mutation_tries, 1)

    def _setup(self) -> None:
        codec = self.codec
        self.population_size = self.population_size_option or default_population_size(codec.count)
        if self.sample_size_option is not None and self.sample_size_option > self.population_size:
            raise ConfigError(
                f"RegularizedEvolution: sample_size ({self.sample_size_option}) exceeds the population_size "
                f"({self.population_size}) chosen for this space; give population_size explicitly or lower sample_size."
            )
        self.sample_size = self.sample_size_option or max(2, self.population_size // 2)
        self._rng = random.Random(self.seed)
        self.population: collections.deque[tuple[Indices, float]] = collections.deque()
        self._pending = PendingSamples()
        self._mutable = [i for i, n in enumerate(codec.sizes) if n > 1]
        if self.mutation_prob_option is not None:
            self.mutation_prob = self.mutation_prob_option
        else:
            self.mutation_prob = 1.0 / len(self._mutable) if self._mutable else 0.0
        self.n_told = 0
        self.n_mutations = 0
        self.n_random = 0

    # -- proposing --------------------------------------------------------------------
    def _random(self) -> Indices | None:
        proposals = self.proposals
        if self.dedup:
            return proposals.draw(self._rng)
        while True:
            c = proposals.canonical(tuple(self._rng.randrange(n) for n in self.codec.sizes))
            if proposals.is_feasible(c):
                return c

    def _admit(self, candidate: Indices) -> Indices | None:
        """``candidate``'s canonical form if it may be proposed (new unless dedup is off, and feasible)."""
        proposals = self.proposals
        if self.dedup:
            return proposals.admissible(candidate)
        c = proposals.canonical(candidate)
        return c if proposals.is_feasible(c) else None

    def _tournament(self) -> Indices:
        contenders = self._rng.sample(range(len(self.population)), self.sample_size)
        best = max(contenders, key=lambda i: self.population[i][1])  # first of equal scores wins
        return self.population[best][0]

    def _mutate(self, parent: Indices) -> Indices:
        child = list(parent)
        if not self._mutable:
            return tuple(child)
        changed = False
        for i in self._mutable:
            if self._rng.random() < self.mutation_prob:
                child[i] = self._other_value(i, child[i])
                changed = True
        if not changed:
            i = self._rng.choice(self._mutable)
            child[i] = self._other_value(i, child[i])
        return tuple(child)

    def _other_value(self, label_pos: int, current: int) -> int:
        v = self._rng.randrange(self.codec.sizes[label_pos] - 1)
        return v + 1 if v >= current else v

    def ask(self) -> dict[str, Any] | None:
        codec = self._require_setup()
        child: Indices | None = None
        if len(self.population) >= self.population_size:
            for _ in range(self.max_mutation_tries):
                child = self._admit(self._mutate(self._tournament()))
                if child is not None:
                    self.n_mutations += 1
                    break
        if child is None:
            child = self._random()
            if child is None:
                return None
            self.n_random += 1
        self.proposals.mark(child)
        self._pending.add(child)
        return codec.decode(child)

    # -- learning ---------------------------------------------------------------------
    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        indices = self._require_proposals().told(sample, self._pending)
        self.n_told += 1
        self._join(indices, result)

    def _join(self, indices: Indices, result: TrialResult) -> None:
        score = usable_score(result)
        if result.status != SUCCEEDED or score is None:
            return
        self.population.append((indices, score))
        while len(self.population) > self.population_size:
            self.population.popleft()

    def _restore(self, told: list[tuple[Indices, TrialResult]]) -> None:
        """The population is the last ``population_size`` successes of the history (aging is first in, first out)."""
        self.population.clear()
        for indices, result in told:
            self._join(indices, result)

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Samples asked for but not yet told about."""
        return [self.codec.decode(i) for i in self._pending.with_repeats()]

    # -- state ------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "population_size": self.population_size,
            "sample_size": self.sample_size,
            "mutation_prob": self.mutation_prob,
            "dedup": self.dedup,
            "rng": random_state(self._rng),
            "pending": self._pending.to_state(),
            "counters": [self.n_told, self.n_mutations, self.n_random],
        }

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.population_size = int(state["population_size"])
        self.sample_size = int(state["sample_size"])
        self.mutation_prob = float(state["mutation_prob"])
        self.dedup = bool(state["dedup"])
        set_random_state(self._rng, state["rng"])
        self._pending = PendingSamples(state["pending"])
        for indices in self._pending:
            self.proposals.mark(indices)
        self.n_told, self.n_mutations, self.n_random = (int(x) for x in state["counters"])

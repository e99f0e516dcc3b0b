"""What a strategy may propose: samples not yet tried (up to equivalence) that meet the known bounds.

:class:`ProposalSpace` is the building block the first-party strategies share, and plugin
authors can use it too. It keeps the set of canonical samples already proposed or told
(a :class:`~nas_core.strategy.SampleTrie` of index vectors, rebuilt from the history on
resume, never saved), maps any index vector to its canonical form
(:meth:`SearchSpace.canonical <nas_core.space.SearchSpace.canonical>`), and checks the
feasibility predicates that middleware hands to the strategy
(:meth:`Strategy.add_feasibility <nas_core.interfaces.strategy.Strategy.add_feasibility>`).
"""
from __future__ import annotations

import random
from typing import Any, Callable, Iterable, Iterator, Mapping

from nas_core.errors import NasError
from nas_core.strategy.encoding import SampleCodec, SampleTrie
from nas_core.strategy.errors import ConstraintUnsatisfiableError

__all__ = ["ProposalSpace", "PendingSamples", "Indices"]

Indices = tuple[int, ...]

#: canonical forms remembered (the cache is emptied when full, so memory stays bounded)
CANONICAL_CACHE = 100_000
#: below this many untried index vectors, a failed random search scans them all (exact exhaustion)
SCAN_LIMIT = 200_000
#: ... after this many failed random draws (or sooner when the scan would cost little more)
SCAN_AFTER = 2_000


class ProposalSpace:
    """Untried, canonical, feasible index vectors of a space.

    ``feasible`` is a callable ``sample -> bool`` (or None: everything is feasible); a
    predicate raising a :class:`~nas_core.NasError` counts as infeasible.
    """

    def __init__(self, codec: SampleCodec, feasible: Callable[[dict[str, Any]], bool] | None = None) -> None:
        self.codec = codec
        self.feasible = feasible
        self.seen = SampleTrie(codec.sizes)
        self._conditional = bool(getattr(codec.space, "conditional", False))
        self._canonical_cache: dict[Indices, Indices] = {}  # bounded (CANONICAL_CACHE), never saved
        self._default_index = [0] * len(codec.sizes)
        for pos, label in enumerate(codec.labels):
            choice = codec.space.choices[label]
            self._default_index[pos] = choice.index(choice.default)

    # -- single vectors ---------------------------------------------------------------
    def canonical(self, indices: Iterable[int]) -> Indices:
        """The canonical index vector of ``indices`` (itself when the space has no inactive labels)."""
        indices = tuple(int(i) for i in indices)
        if not self._conditional:
            return indices
        c = self._canonical_cache.get(indices)
        if c is None:
            if len(self._canonical_cache) >= CANONICAL_CACHE:
                self._canonical_cache.clear()
            c = self.codec.encode(self.codec.space.canonical(self.codec.decode(indices)))
            self._canonical_cache[indices] = c
        return c

    def canonical_of(self, sample: Mapping[str, object]) -> Indices:
        """The canonical index vector of a sample (validated)."""
        if not self._conditional:
            return self.codec.encode(sample)
        return self.codec.encode(self.codec.space.canonical(sample))

    def is_feasible(self, indices: Indices) -> bool:
        if self.feasible is None:
            return True
        try:
            return bool(self.feasible(self.codec.decode(indices)))
        except NasError:
            return False

    def is_new(self, indices: Indices) -> bool:
        """True when ``indices`` (canonical) was neither proposed nor told."""
        return indices not in self.seen

    def admissible(self, indices: Iterable[int]) -> Indices | None:
        """The canonical form of ``indices`` when it is new and feasible, else None."""
        c = self.canonical(indices)
        if c in self.seen or not self.is_feasible(c):
            return None
        return c

    def mark(self, indices: Indices) -> None:
        """Record ``indices`` (canonical) as proposed or told."""
        self.seen.add(indices)

    def told(self, sample: Mapping[str, object], pending: "PendingSamples | None" = None) -> Indices:
        """The canonical indices of a told ``sample``: marked as tried, and no longer out in ``pending``."""
        indices = self.canonical_of(sample)
        if pending is not None:
            pending.settle(indices)
        self.mark(indices)
        return indices

    # -- drawing ----------------------------------------------------------------------
    def draw(self, rng: random.Random, max_tries: int = 100_000) -> Indices | None:
        """A random new, canonical, feasible vector (uniform over the untried raw vectors, then
        canonicalised), or None when there is none left.

        Raises :class:`ConstraintUnsatisfiableError` when ``max_tries`` draws found nothing
        feasible in a space too large to scan.
        """
        for tries in range(1, max_tries + 1):
            raw = self.seen.sample_unseen(rng)
            if raw is None:
                return None
            c = self.admissible(raw)
            if c is not None:
                return c
            remaining = self.seen.remaining
            if remaining <= SCAN_LIMIT and (tries >= SCAN_AFTER or tries * 20 >= remaining):
                return self._scan(rng)
        raise ConstraintUnsatisfiableError(
            f"no feasible untried sample in {max_tries} random draws ({len(self.seen)} samples tried, "
            f"{self.seen.remaining} untried index vectors). The bound handed to the strategy (Filter predicate) "
            "may be unsatisfiable in this space, or feasible samples are extremely rare: loosen the bound."
        )

    def _scan(self, rng: random.Random) -> Indices | None:
        """Every untried raw vector, from a random starting point: the first admissible one."""
        candidates = list(self.seen.iter_unseen())
        if not candidates:
            return None
        start = rng.randrange(len(candidates))
        for raw in candidates[start:] + candidates[:start]:
            c = self.admissible(raw)
            if c is not None:
                return c
        return None


class PendingSamples:
    """Proposals asked and not yet told, with how many times each is out: part of a strategy's
    saved state, so that a resumed strategy does not propose them again."""

    def __init__(self, rows: Iterable[Any] = ()) -> None:
        self.counts: dict[Indices, int] = {tuple(int(v) for v in i): int(n) for i, n in rows}

    def add(self, indices: Indices) -> None:
        self.counts[indices] = self.counts.get(indices, 0) + 1

    def settle(self, indices: Indices) -> None:
        """One of ``indices``' proposals was told (a sample not pending is ignored)."""
        if self.counts.get(indices, 0) > 1:
            self.counts[indices] -= 1
        else:
            self.counts.pop(indices, None)

    def __iter__(self) -> Iterator[Indices]:
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)

    def with_repeats(self) -> list[Indices]:
        """Every pending proposal, as many times as it is out."""
        return [i for i, n in self.counts.items() for _ in range(n)]

    def to_state(self) -> list[list[Any]]:
        return [[list(i), n] for i, n in self.counts.items()]

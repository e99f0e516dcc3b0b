"""Samples as index vectors, and the set of samples a strategy has already proposed.

Strategies work on the positions of values in each label's domain (space order), which
are JSON-safe whatever the values are (module names, ints, lists for InputChoice), and
decode back to samples only when proposing one.
"""
from __future__ import annotations

import copy
import math
import random
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from nas_core.errors import InvalidSampleError
from nas_core.strategy.errors import StrategyStateError

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["SampleCodec", "SampleTrie"]

Indices = tuple[int, ...]


def _value_key(value: Any) -> Any:
    """A hashable key equal for values the space treats as equal (lists as tuples; bools apart from ints)."""
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_value_key(v) for v in value))
    return (type(value) is bool, value)


class SampleCodec:
    """Encode a sample as the tuple of its values' domain positions, and back.

    Labels follow ``space.labels`` (shared labels are one decision, so one position).
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.labels: list[str] = list(space.labels)
        self.domains: list[list[Any]] = [list(space.choices[label].domain) for label in self.labels]
        self.sizes: list[int] = [len(d) for d in self.domains]
        self._positions: list[dict[Any, int]] = []
        for domain in self.domains:
            positions: dict[Any, int] = {}
            for i, value in enumerate(domain):
                try:
                    positions.setdefault(_value_key(value), i)
                except TypeError:  # an unhashable value: those labels always take the validating path
                    positions = {}
                    break
            self._positions.append(positions)
        empty = [label for label, n in zip(self.labels, self.sizes) if n == 0]
        if empty:
            raise InvalidSampleError(f"label {empty[0]!r} has an empty domain; a strategy cannot choose a value for it.")

    @property
    def count(self) -> int:
        """Number of distinct samples."""
        return math.prod(self.sizes)

    def encode(self, sample: Mapping[str, object]) -> Indices:
        """Domain positions of ``sample``'s values (validated: clear error on a bad sample)."""
        if isinstance(sample, Mapping) and len(sample) == len(self.labels):
            try:  # fast path: every value found by hashing (a miss falls back to full validation)
                return tuple(pos[_value_key(sample[label])] for label, pos in zip(self.labels, self._positions))
            except (KeyError, TypeError):
                pass
        canonical = self.space.validate(sample)
        return tuple(self.space.choices[label].index(canonical[label]) for label in self.labels)

    def decode(self, indices: Sequence[int]) -> dict[str, Any]:
        """The sample whose values sit at ``indices`` (copies, so callers may mutate them)."""
        if len(indices) != len(self.labels):
            raise InvalidSampleError(f"expected {len(self.labels)} indices (one per label {self.labels}), got {list(indices)}.")
        return {label: copy.deepcopy(dom[int(i)]) for label, dom, i in zip(self.labels, self.domains, indices)}

    def fingerprint(self) -> list[list[Any]]:
        """Labels and domain sizes, stored in strategy states to catch a restore on another space."""
        return [[label, n] for label, n in zip(self.labels, self.sizes)]

    def check_fingerprint(self, saved: Any, owner: str) -> None:
        """Raise a clear error when a saved state belongs to a different space."""
        if saved is not None and [list(x) for x in saved] != self.fingerprint():
            raise StrategyStateError(
                f"the saved {owner} state was made on a different search space (labels and domain sizes "
                f"{saved}, this space has {self.fingerprint()}). Restore it on the space it was saved with."
            )


class SampleTrie:
    """A set of index vectors stored as a prefix tree with counts.

    Besides membership it answers, for any prefix, how many completions are still unseen,
    which lets strategies draw uniformly among unseen samples, mask exhausted branches in
    autoregressive sampling, and know exactly when a space is exhausted, without retries.
    """

    def __init__(self, sizes: Sequence[int], items: Iterable[Sequence[int]] = ()) -> None:
        self.sizes = [int(s) for s in sizes]
        n = len(self.sizes)
        # suffix[d]: number of completions of a prefix of length d
        self.suffix = [math.prod(self.sizes[d:]) for d in range(n + 1)]
        self._root: list[Any] = [0, {}]
        self._order: list[Indices] = []
        for item in items:
            self.add(item)

    def __len__(self) -> int:
        return self._root[0]

    def __contains__(self, item: Sequence[int]) -> bool:
        node = self._root
        for i in item:
            node = node[1].get(int(i))
            if node is None:
                return False
        return True

    def __iter__(self):
        return iter(self._order)

    @property
    def remaining(self) -> int:
        """Number of samples not in the set."""
        return self.suffix[0] - len(self)

    def add(self, item: Sequence[int]) -> bool:
        """Add ``item``; True when it was new."""
        item = tuple(int(i) for i in item)
        if len(item) != len(self.sizes) or any(not 0 <= i < s for i, s in zip(item, self.sizes)):
            raise ValueError(f"index vector {list(item)} does not fit domain sizes {self.sizes}")
        if item in self:
            return False
        node = self._root
        node[0] += 1
        for i in item:
            node = node[1].setdefault(i, [0, {}])
            node[0] += 1
        self._order.append(item)
        return True

    def unseen_counts(self, prefix: Sequence[int]) -> list[int]:
        """For each value of the next label after ``prefix``: how many unseen samples extend it."""
        d = len(prefix)
        node: list[Any] | None = self._root
        for i in prefix:
            node = node[1].get(int(i)) if node is not None else None
        width = self.suffix[d + 1]
        children = node[1] if node is not None else {}
        return [width - (children[v][0] if v in children else 0) for v in range(self.sizes[d])]

    def sample_unseen(self, rng: random.Random) -> Indices | None:
        """A uniformly random unseen index vector, or None when every sample is in the set."""
        if self.remaining <= 0:
            return None
        r = rng.randrange(self.remaining)
        prefix: list[int] = []
        for _ in range(len(self.sizes)):
            for v, free in enumerate(self.unseen_counts(prefix)):
                if r < free:
                    prefix.append(v)
                    break
                r -= free
        return tuple(prefix)

    def iter_unseen(self):
        """Every index vector not in the set, in lexicographic order (beware of large spaces)."""
        import itertools

        n = len(self.sizes)

        def walk(node: list[Any] | None, prefix: tuple[int, ...]):
            d = len(prefix)
            if d == n:
                if node is None:
                    yield prefix
                return
            children = node[1] if node is not None else {}
            for v in range(self.sizes[d]):
                child = children.get(v)
                if child is None:
                    yield from (prefix + (v,) + rest for rest in itertools.product(*map(range, self.sizes[d + 1:])))
                elif child[0] < self.suffix[d + 1]:
                    yield from walk(child, prefix + (v,))

        yield from walk(self._root, ())

    def to_list(self) -> list[list[int]]:
        """The members in insertion order (JSON-safe)."""
        return [list(x) for x in self._order]

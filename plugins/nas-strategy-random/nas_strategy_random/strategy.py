"""Random search: each sample drawn uniformly, never the same one twice (by default)."""
from __future__ import annotations

import random
from typing import Any, Mapping

from nas_core.errors import ConfigError
from nas_core.interfaces.strategy import TrialResult
from nas_core.strategy import SampleTrie, SeededStrategy, random_state, set_random_state

__all__ = ["Random"]


class Random(SeededStrategy):
    """Uniform random search.

    With ``dedup=True`` (default) every proposal is drawn uniformly among the samples not
    proposed or told so far, so no sample is ever proposed twice, and ``ask`` returns None
    once the space is exhausted. With ``dedup=False`` each label's value is drawn
    independently and uniformly (repeats possible; the search never ends by itself).

    Args:
        seed: overrides the seed the runner passes to ``setup`` (same seed, same samples).
        dedup: never propose a sample twice.
    """

    name = "random"

    def __init__(self, seed: int | None = None, dedup: bool = True) -> None:
        super().__init__(seed)
        if not isinstance(dedup, bool):
            raise ConfigError(f"Random: dedup must be True or False, got {dedup!r}.")
        self.dedup = dedup

    def _setup(self) -> None:
        self._rng = random.Random(self.seed)
        self._seen = SampleTrie(self.codec.sizes)
        self.n_asked = 0

    def ask(self) -> dict[str, Any] | None:
        codec = self._require_setup()
        if self.dedup:
            indices = self._seen.sample_unseen(self._rng)
            if indices is None:
                return None
        else:
            indices = tuple(self._rng.randrange(n) for n in codec.sizes)
        self._seen.add(indices)
        self.n_asked += 1
        return codec.decode(indices)

    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        # Random search does not learn; a sample it did not propose (e.g. replayed history)
        # is still marked as seen so that it is not proposed later.
        codec = self._require_setup()
        self._seen.add(codec.encode(sample))

    def _state(self) -> dict[str, Any]:
        return {"dedup": self.dedup, "rng": random_state(self._rng), "seen": self._seen.to_list(), "n_asked": self.n_asked}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        set_random_state(self._rng, state["rng"])
        self._seen = SampleTrie(self.codec.sizes, state["seen"])
        self.n_asked = int(state["n_asked"])

"""Random search: each sample drawn uniformly, never the same architecture twice (by default)."""
from __future__ import annotations

import random
from typing import Any, Mapping

from nas_core.errors import ConfigError
from nas_core.interfaces.strategy import TrialResult
from nas_core.strategy import PendingSamples, SeededStrategy, random_state, set_random_state

__all__ = ["Random"]


class Random(SeededStrategy):
    """Uniform random search.

    With ``dedup=True`` (default) every proposal is drawn uniformly among the samples not
    proposed or told so far and then made canonical (labels it leaves unused set to their
    defaults), so no architecture is ever proposed twice, and ``ask`` returns None once the
    space is exhausted. With ``dedup=False`` each label's value is drawn independently and
    uniformly (repeats possible; the search never ends by itself).

    When middleware hands over a feasibility predicate (``Filter``, see
    :meth:`~nas_core.Strategy.add_feasibility`), samples are drawn among feasible ones only.
    The state is the generator and a counter: the set of tried samples is rebuilt from the
    history on resume.

    Args:
        seed: overrides the seed the runner passes to ``setup`` (same seed, same samples).
        dedup: never propose an architecture twice.
    """

    name = "random"

    def __init__(self, seed: int | None = None, dedup: bool = True) -> None:
        super().__init__(seed)
        if not isinstance(dedup, bool):
            raise ConfigError(f"Random: dedup must be True or False, got {dedup!r}.")
        self.dedup = dedup

    def _setup(self) -> None:
        self._rng = random.Random(self.seed)
        self._pending = PendingSamples()
        self.n_asked = 0

    def ask(self) -> dict[str, Any] | None:
        codec, proposals = self._require_setup(), self._require_proposals()
        if self.dedup:
            indices = proposals.draw(self._rng)
            if indices is None:
                return None
        else:
            while True:
                raw = tuple(self._rng.randrange(n) for n in codec.sizes)
                indices = proposals.canonical(raw)
                if proposals.is_feasible(indices):
                    break
        proposals.mark(indices)
        self._pending.add(indices)
        self.n_asked += 1
        return codec.decode(indices)

    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        # Random search does not learn; a sample it did not propose (e.g. replayed history)
        # is still marked as tried so that it is not proposed later.
        self._require_proposals().told(sample, self._pending)

    def _state(self) -> dict[str, Any]:
        return {"dedup": self.dedup, "rng": random_state(self._rng), "n_asked": self.n_asked,
                "pending": self._pending.to_state()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        set_random_state(self._rng, state["rng"])
        self.n_asked = int(state["n_asked"])
        self._pending = PendingSamples(state.get("pending", []))
        for indices in self._pending:
            self.proposals.mark(indices)

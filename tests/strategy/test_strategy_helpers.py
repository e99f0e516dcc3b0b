"""SampleCodec, SampleTrie, SeededStrategy and TabularBenchmark."""
from __future__ import annotations

import collections
import json
import random

import pytest

from nas_core import ConfigError, TrialResult
from nas_core.space import sample_key
from nas_core.strategy import (
    SampleCodec,
    SampleTrie,
    SeededStrategy,
    StrategySetupError,
    StrategyStateError,
    TabularBenchmark,
    random_state,
    set_random_state,
)
from nas_core.strategy.testing import UniformRandom, toy_score, toy_space


def test_codec_round_trips_input_choice_and_shared_labels():
    space = toy_space()
    codec = SampleCodec(space)
    assert codec.labels == ["width", "act", "skip", "pool"] and codec.sizes == [3, 2, 4, 2]
    for sample in space.enumerate():
        assert codec.decode(codec.encode(sample)) == sample
    assert codec.encode({"width": 8, "act": "tanh", "skip": (0, 1), "pool": 1}) == (1, 1, 3, 1)


def test_trie_draws_uniformly_among_unseen_and_knows_when_exhausted():
    trie = SampleTrie([2, 3])
    assert trie.remaining == 6
    trie.add((0, 1))
    trie.add((0, 2))
    assert (0, 1) in trie and (1, 1) not in trie and not trie.add((0, 1))
    assert trie.unseen_counts([]) == [1, 3] and trie.unseen_counts([0]) == [1, 0, 0]
    rng = random.Random(0)
    counts = collections.Counter(trie.sample_unseen(rng) for _ in range(4000))
    assert set(counts) == {(0, 0), (1, 0), (1, 1), (1, 2)}
    assert all(900 < n < 1100 for n in counts.values())
    for item in [(0, 0), (1, 0), (1, 1), (1, 2)]:
        trie.add(item)
    assert trie.remaining == 0 and trie.sample_unseen(rng) is None
    assert SampleTrie([2, 3], trie.to_list()).to_list() == trie.to_list()
    with pytest.raises(ValueError, match="does not fit domain sizes"):
        trie.add((2, 0))


def test_random_state_survives_json():
    rng = random.Random(5)
    rng.random()
    state = json.loads(json.dumps(random_state(rng)))
    other = random.Random()
    set_random_state(other, state)
    assert [other.random() for _ in range(5)] == [rng.random() for _ in range(5)]
    with pytest.raises(ValueError, match="not a saved random.Random state"):
        set_random_state(other, [1, 2])


class Counter(SeededStrategy):
    def _setup(self):
        self.rng = random.Random(self.seed)

    def ask(self):
        codec = self._require_setup()
        return codec.decode([self.rng.randrange(n) for n in codec.sizes])

    def tell(self, sample, result):
        pass


def test_seeded_strategy_seed_rules_and_errors():
    space = toy_space()
    s = Counter()
    with pytest.raises(StrategySetupError, match=r"call strategy.setup\(space, seed\)"):
        s.ask()
    s.setup(space, 11)
    assert s.seed == 11
    pinned = Counter(seed=3)
    pinned.setup(space, 11)
    assert pinned.seed == 3  # the constructor's seed wins
    drawn = Counter()
    drawn.setup(space, None)
    assert isinstance(drawn.seed, int) and drawn.state_dict()["seed"] == drawn.seed
    with pytest.raises(ConfigError, match="seed must be an integer >= 0"):
        Counter(seed=-1)
    with pytest.raises(StrategySetupError, match="needs a nas_core SearchSpace"):
        Counter().setup({"width": [1, 2]}, 0)


def test_state_from_another_space_or_strategy_is_refused():
    from nas_core.space import ModelSpace, ValueChoice
    import nas_core.nn as nn

    class Other(ModelSpace):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, ValueChoice([2, 3], label="width"))

    a = Counter()
    a.setup(toy_space(), 0)
    b = Counter()
    b.setup(Other().space, 0)
    with pytest.raises(StrategyStateError, match="different search space"):
        b.load_state_dict(a.state_dict())
    with pytest.raises(StrategyStateError, match="got a state of 'Random'"):
        a.load_state_dict({"strategy": "Random"})


def test_tabular_benchmark_finds_best_and_counts_evaluations():
    space = toy_space()
    records = [{"sample": s, "score": toy_score(s), "cost": s["width"]} for s in space.enumerate()]
    bench = TabularBenchmark(space, records, "score", lambda r: r["cost"] <= 8)
    best = max((r for r in records if r["cost"] <= 8), key=lambda r: r["score"])
    assert bench.best_keys == {sample_key(best["sample"])}
    run = bench.run(UniformRandom(), seed=0, max_evaluations=48)
    assert len(run.evaluated) == 48 and run.evaluations_to_best == 1 + [sample_key(s) for s in run.evaluated].index(
        sample_key(best["sample"]))
    short = bench.run(UniformRandom(), seed=0, max_evaluations=48, stop_at_best=True)
    assert len(short.evaluated) == run.evaluations_to_best
    with pytest.raises(ConfigError, match="no record satisfies"):
        TabularBenchmark(space, records, "score", lambda r: False)

"""RegularizedEvolution: aging evolution with tournaments and at-least-one-label mutations."""
from __future__ import annotations

import pytest

import nas_core
from nas_core import ConfigError, TrialResult
from nas_core.interfaces.strategy import FAILED, REJECTED
from nas_core.space import sample_key
from nas_core.strategy.testing import (
    assert_no_repeats,
    assert_reproducible,
    assert_resumes_exactly,
    toy_score,
    toy_space,
)
from nas_strategy_evolution import RegularizedEvolution, default_population_size


def _make(**kw):
    return lambda: RegularizedEvolution(**{"population_size": 6, "sample_size": 3, **kw})


def test_registered_by_name():
    assert nas_core.get_registry().get("strategy", "regularized-evolution").factory is RegularizedEvolution


def test_same_seed_same_samples():
    assert_reproducible(_make())
    assert_reproducible(_make(dedup=False))


def test_resumes_exactly_with_pending_samples():
    # 10 rounds of 3 asks: the state is saved after the population filled up (mutations running)
    assert_resumes_exactly(_make(), rounds=10, resume_after=5)
    assert_resumes_exactly(_make(dedup=False), rounds=10, resume_after=5)


def test_never_repeats_and_exhausts_the_space():
    assert_no_repeats(_make())


def _count_diffs(a, b):
    return sum(a[k] != b[k] for k in a)


def test_mutation_changes_at_least_one_label_to_a_different_value():
    space = toy_space()
    for prob, expected in [(0.0, {1}), (1.0, {4})]:
        evo = RegularizedEvolution(population_size=2, mutation_prob=prob, seed=0)
        evo.setup(space)
        parent = evo.codec.encode(space.default())
        for _ in range(200):
            child = evo._mutate(parent)
            assert {sum(p != c for p, c in zip(parent, child))} <= expected


def test_random_population_first_then_children_of_tournament_winners():
    space = toy_space()
    evo = RegularizedEvolution(population_size=8, sample_size=8, mutation_prob=0.0, seed=1)
    evo.setup(space)
    for _ in range(8):
        s = evo.ask()
        evo.tell(s, TrialResult(toy_score(s)))
    assert evo.n_random == 8 and evo.n_mutations == 0
    best = max((evo.codec.decode(i) for i, _ in evo.population), key=toy_score)
    # sample_size == population_size: the tournament always picks the best member;
    # mutation_prob 0: exactly one label differs from it
    child = evo.ask()
    assert evo.n_mutations == 1 and _count_diffs(child, best) == 1


def test_aging_removes_the_oldest_and_failures_stay_out():
    space = toy_space()
    evo = RegularizedEvolution(population_size=4, sample_size=2, seed=2)
    evo.setup(space)
    told = []
    for i in range(12):
        s = evo.ask()
        if i % 3 == 2:
            evo.tell(s, TrialResult(None, status=FAILED, error="NaN loss"))
        elif i % 3 == 1 and i > 4:
            evo.tell(s, TrialResult(-1.0, status=REJECTED, error="too many FLOPs"))
        else:
            evo.tell(s, TrialResult(toy_score(s)))
            told.append(s)
    assert len(evo.population) == 4
    assert [evo.codec.decode(i) for i, _ in evo.population] == told[-4:]  # the youngest four successes
    assert evo.pending == []


def test_defaults_scale_with_the_space():
    space = toy_space()  # 48 samples
    evo = RegularizedEvolution()
    evo.setup(space, 0)
    assert (evo.population_size, evo.sample_size) == (default_population_size(48), 5) == (10, 5)
    assert evo.mutation_prob == pytest.approx(1 / 4)
    assert default_population_size(10**9) == 100


def test_works_behind_filter_and_keeps_batches():
    from nas_core.strategy import Chain, Filter

    space = toy_space()
    chain = Chain(RegularizedEvolution(population_size=4, sample_size=2), Filter(lambda s: s["width"] != 16))
    chain.setup(space, 0)
    batch = [chain.ask() for _ in range(6)]  # several pending trials at once
    for s in batch:
        chain.tell(s, TrialResult(toy_score(s)))
    more = [chain.ask() for _ in range(20)]
    assert all(s["width"] != 16 for s in batch + more)
    assert len({sample_key(s) for s in batch + more}) == 26


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"population_size": 1}, "population_size must be an integer >= 2"),
        ({"population_size": 10, "sample_size": 11}, r"sample_size \(11\) cannot exceed population_size \(10\)"),
        ({"sample_size": 0}, "sample_size must be an integer >= 1"),
        ({"mutation_prob": 1.5}, r"mutation_prob must be a probability in \[0, 1\]"),
        ({"dedup": 1}, "dedup must be True or False"),
        ({"population_size": "20"}, "population_size must be an integer"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RegularizedEvolution(**kwargs)


def test_sample_size_larger_than_automatic_population_is_reported_at_setup():
    evo = RegularizedEvolution(sample_size=50)
    with pytest.raises(ConfigError, match=r"sample_size \(50\) exceeds the population_size \(10\)"):
        evo.setup(toy_space(), 0)

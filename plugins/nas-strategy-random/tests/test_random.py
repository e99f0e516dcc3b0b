"""Random: uniform, seeded, deduplicating, restorable."""
from __future__ import annotations

import collections

import pytest

import nas_core
from nas_core import ConfigError, TrialResult
from nas_core.space import sample_key
from nas_core.strategy.testing import assert_no_repeats, assert_reproducible, assert_resumes_exactly, toy_space
from nas_strategy_random import Random


def test_registered_by_name():
    assert nas_core.get_registry().get("strategy", "random").factory is Random
    assert isinstance(nas_core.create("strategy", "random", seed=1), Random)


def test_same_seed_same_samples():
    assert_reproducible(lambda: Random())
    assert_reproducible(lambda: Random(dedup=False))


def test_resumes_exactly_with_pending_samples():
    assert_resumes_exactly(lambda: Random())
    assert_resumes_exactly(lambda: Random(dedup=False))


def test_proposes_every_sample_once_then_none():
    asked = assert_no_repeats(lambda: Random())
    for s in asked:  # InputChoice values are lists of input indices; shared label 'act' is one decision
        assert isinstance(s["skip"], list) and s["act"] in ("relu", "tanh")


def test_uniform_over_values():
    space = toy_space()
    firsts = []
    for seed in range(1200):
        r = Random(seed=seed)
        r.setup(space)
        firsts.append(r.ask())
    widths = collections.Counter(s["width"] for s in firsts)
    skips = collections.Counter(tuple(s["skip"]) for s in firsts)
    assert all(340 < n < 460 for n in widths.values()), widths
    assert len(skips) == 4 and all(240 < n < 360 for n in skips.values()), skips


def test_never_proposes_samples_it_was_told_about():
    space = toy_space()
    r = Random(seed=0)
    r.setup(space)
    told = list(space.enumerate())[:40]
    for s in told:  # e.g. trials replayed from a previous run
        r.tell(s, TrialResult(0.5))
    rest = [r.ask() for _ in range(8)]
    assert r.ask() is None
    assert {sample_key(s) for s in rest} == {sample_key(s) for s in list(space.enumerate())[40:]}


def test_without_dedup_repeats_happen():
    r = Random(seed=0, dedup=False)
    r.setup(toy_space())
    keys = [sample_key(r.ask()) for _ in range(100)]
    assert len(set(keys)) < 100


@pytest.mark.parametrize("kwargs, message", [({"dedup": "yes"}, "dedup must be True or False"),
                                             ({"seed": 1.5}, "seed must be an integer")])
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Random(**kwargs)

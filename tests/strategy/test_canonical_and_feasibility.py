"""Equivalent samples (inactive labels, a space's own canonical form) and feasibility handed to strategies."""
from __future__ import annotations

import pytest

from nas_core import InvalidSampleError, TrialResult
from nas_core.strategy import Chain, Deduplicate, Filter, SeededStrategy
from nas_core.strategy.proposals import ProposalSpace
from nas_core.strategy.testing import nested_space, toy_space, wide_space


def _sample(depth, ops=("plain", "plain", "plain"), kernels=(0, 0, 0), skips=([0], [0], [0])):
    s = {"depth": depth}
    for i in range(3):
        s[f"op{i}"], s[f"kernel{i}"], s[f"skip{i}"] = ops[i], kernels[i], list(skips[i])
    return s


def test_blocks_past_the_depth_and_unchosen_candidates_are_inactive():
    space = nested_space()
    s = _sample(2, ops=("rich", "plain", "rich"), kernels=(1, 1, 1), skips=([1], [1], [1]))
    # block 2 is past the depth; block 1 is "plain", so its kernel and skip are unused
    assert space.inactive(s) == {"op2", "kernel2", "skip2", "kernel1", "skip1"}
    c = space.canonical(s)
    assert c == _sample(2, ops=("rich", "plain", "plain"), kernels=(1, 0, 0), skips=([1], [0], [0]))
    assert space.canonical_key(s) == space.canonical_key(c)


def test_a_space_adds_its_own_canonical_form():
    space = nested_space()
    # the rich block's skip takes its input ([0]): NestedNet.canonical_sample resets the kernel
    a = _sample(1, ops=("rich", "plain", "plain"), kernels=(1, 0, 0), skips=([0], [0], [0]))
    b = _sample(1, ops=("rich", "plain", "plain"), kernels=(0, 0, 0), skips=([0], [0], [0]))
    assert space.canonical(a) == space.canonical(b) == b
    assert space.conditional and not toy_space().conditional


def test_distinct_networks_of_the_nested_space():
    space = nested_space()
    assert space.count() == 1536
    assert len({space.canonical_key(s) for s in space.enumerate()}) == 84


def test_canonical_validates_and_a_bad_own_form_is_named():
    space = nested_space()
    with pytest.raises(InvalidSampleError, match="depth"):
        space.canonical({"depth": 9})
    space.model.canonical_sample = lambda s: None
    with pytest.raises(InvalidSampleError, match="canonical_sample returned NoneType"):
        space.canonical(_sample(1))


def test_deduplicate_counts_equivalent_samples_as_one():
    space = nested_space()

    class Fixed(SeededStrategy):
        def __init__(self, samples):
            super().__init__(0)
            self.samples, self.told = list(samples), []

        def ask(self):
            return self.samples.pop(0) if self.samples else None

        def tell(self, sample, result):
            self.told.append((sample, result.score))

    a = _sample(1, ops=("plain", "rich", "rich"), kernels=(0, 1, 1))
    b = _sample(1, ops=("plain", "plain", "plain"))  # same network as a
    inner = Fixed([a, b, _sample(2)])
    chain = Chain(inner, Deduplicate())
    chain.setup(space, 0)
    assert chain.ask() == a
    chain.tell(a, TrialResult(0.5))
    assert chain.ask() == _sample(2)  # b was told a's result, not passed on
    assert inner.told == [(a, 0.5), (b, 0.5)]


def test_filter_passes_its_predicate_to_strategies_that_take_it():
    flt = Filter(lambda s: s["w0"] == 1)

    class Deaf(SeededStrategy):
        def ask(self):
            return {f"w{i}": 1 for i in range(6)}

        def tell(self, sample, result):
            pass

        def add_feasibility(self, feasible):
            return False

    chain = Chain(Deaf(0), flt)
    chain.setup(wide_space(), 0)
    assert not flt.guiding
    assert not Filter(lambda s: True, guide=False).guide
    with pytest.raises(Exception, match="guide must be True or False"):
        Filter(lambda s: True, guide="yes")


def test_proposal_space_draws_only_feasible_and_reports_an_unsatisfiable_bound():
    import random

    space = wide_space()
    from nas_core.strategy import SampleCodec

    codec = SampleCodec(space)
    proposals = ProposalSpace(codec, lambda s: s["w0"] == 3 and s["w5"] == 9)
    rng = random.Random(0)
    for _ in range(30):
        c = proposals.draw(rng)
        s = codec.decode(c)
        assert s["w0"] == 3 and s["w5"] == 9
        proposals.mark(c)
    never = ProposalSpace(codec, lambda s: False)
    from nas_core.strategy import ConstraintUnsatisfiableError

    with pytest.raises(ConstraintUnsatisfiableError, match="may be unsatisfiable"):
        never.draw(rng, max_tries=50)


def test_proposal_space_exhausts_a_small_space_exactly_under_equivalence():
    import random

    from nas_core.strategy import SampleCodec

    space = nested_space()
    proposals = ProposalSpace(SampleCodec(space))
    rng = random.Random(1)
    got = []
    while (c := proposals.draw(rng)) is not None:
        proposals.mark(c)
        got.append(c)
    assert len(got) == len(set(got)) == 84

"""Chain, Filter and Deduplicate: the seeds' middleware, rejections for the runner, state."""
from __future__ import annotations

import json
from typing import Any, Mapping

import pytest

from nas_core import ArchitectureError, ConfigError, Strategy, TrialResult
from nas_core.interfaces.strategy import REJECTED
from nas_core.space import sample_key
from nas_core.strategy import (
    Chain,
    ConstraintUnsatisfiableError,
    Deduplicate,
    Filter,
    MiddlewareError,
    Rejection,
    SeededStrategy,
    StrategyStateError,
    drain_rejected,
)
from nas_core.strategy.testing import UniformRandom, assert_resumes_exactly, toy_space


class Scripted(Strategy):
    """Proposes a fixed list of samples and records what it is told."""

    def __init__(self, samples: list[dict[str, Any]]) -> None:
        self.samples = list(samples)
        self.told: list[tuple[dict[str, Any], TrialResult]] = []

    def ask(self) -> dict[str, Any] | None:
        return self.samples.pop(0) if self.samples else None

    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        self.told.append((dict(sample), result))


class Enumerate(SeededStrategy):
    """Every sample of the space in order: a minimal SeededStrategy with state."""

    def _setup(self) -> None:
        self.samples = list(self.space.enumerate())
        self.pos = 0

    def ask(self):
        self._require_setup()
        if self.pos >= len(self.samples):
            return None
        self.pos += 1
        return self.samples[self.pos - 1]

    def tell(self, sample, result):
        pass

    def _state(self):
        return {"pos": self.pos}

    def _load_state(self, state):
        self.pos = state["pos"]


class WidthProfiler:
    """Anything with ``profile(sample)`` works in the seeds' Filter."""

    def profile(self, sample: Mapping[str, Any]) -> float:
        return sample["width"] * 25e6  # 4 -> 1e8, 8 -> 2e8, 16 -> 4e8


def _drive(strategy: Strategy, score: float = 1.0) -> list[dict[str, Any]]:
    out = []
    while (s := strategy.ask()) is not None:
        out.append(s)
        strategy.tell(s, TrialResult(score, {"score": score}))
    return out


def test_guiding_filter_makes_a_seeded_strategy_propose_only_feasible_samples():

    profiler = WidthProfiler()
    flt = Filter(lambda sample: profiler.profile(sample) < 300e6)
    strategy = Chain(UniformRandom(), flt)
    strategy.setup(toy_space(), seed=0)
    trained = _drive(strategy)
    # the Filter handed its predicate to the strategy: infeasible samples are never proposed, so none is rejected
    assert flt.guiding and len(trained) == 32 and all(s["width"] in (4, 8) for s in trained)
    assert strategy.drain_rejected() == [] and flt.n_rejected == 0


def test_unguided_filter_rejects_and_exposes_rejections():
    profiler = WidthProfiler()
    strategy = Chain(
        UniformRandom(),
        Filter(lambda sample: profiler.profile(sample) < 300e6, guide=False)
    )
    strategy.setup(toy_space(), seed=0)
    trained = _drive(strategy)
    assert len(trained) == 32 and all(s["width"] in (4, 8) for s in trained)
    rejected = strategy.drain_rejected()
    assert len(rejected) == 16 and all(isinstance(r, Rejection) for r in rejected)
    assert all(r.sample["width"] == 16 and r.middleware == "Filter" and r.score is None for r in rejected)
    assert "constraint not met" in rejected[0].reason
    assert strategy.drain_rejected() == []  # drained
    assert {sample_key(s) for s in trained}.isdisjoint({sample_key(r.sample) for r in rejected})


def test_filter_mode_discard_tells_strategy_rejected_without_score():
    inner = Scripted([{"width": 16}, {"width": 4}])
    chain = Chain(inner, Filter(lambda s: s["width"] < 8))
    assert chain.ask() == {"width": 4}
    (sample, result), = inner.told
    assert sample == {"width": 16} and result.score is None and result.status == REJECTED and "constraint" in result.error


def test_filter_mode_metric_tells_strategy_the_penalty():
    inner = Scripted([{"width": 16}, {"width": 16}, {"width": 4}])
    chain = Chain(inner, Filter(lambda s: s["width"] < 8, metric_if_rejected=-1.0))
    seen: list[Rejection] = []
    chain.on_reject = seen.append
    assert chain.ask() == {"width": 4}
    assert [(r.score, r.status) for _, r in inner.told] == [(-1.0, REJECTED), (-1.0, REJECTED)]
    assert [r.score for r in seen] == [-1.0, -1.0]
    assert len(chain.drain_rejected()) == 2  # the queue is filled whether or not a callback is set
    chain.tell({"width": 4}, TrialResult(0.9))
    assert inner.told[-1][1].score == 0.9


def test_filter_patience_gives_clear_error():
    chain = Chain(Enumerate(), Filter(lambda s: False, patience=5))
    chain.setup(toy_space(), 0)
    with pytest.raises(ConstraintUnsatisfiableError, match=r"rejected 5 samples in a row.*unsatisfiable.*patience"):
        chain.ask()
    assert len(chain.drain_rejected()) == 5


def test_filter_ends_when_strategy_is_exhausted():
    chain = Chain(Scripted([{"width": 16}]), Filter(lambda s: False))
    assert chain.ask() is None


def test_filter_predicate_errors():
    def builds(sample):
        raise ArchitectureError("shapes do not fit")

    chain = Chain(Scripted([{"width": 4}]), Filter(builds))
    assert chain.ask() is None
    (rej,) = chain.drain_rejected()
    assert "ArchitectureError" in rej.reason and "shapes do not fit" in rej.reason

    chain = Chain(Scripted([{"width": 4}]), Filter(lambda model: model.parameters()))
    with pytest.raises(MiddlewareError, match="receives the sample dict"):
        chain.ask()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"predicate": 3}, "needs a callable"),
        ({"predicate": bool, "metric_if_rejected": "bad"}, "metric_if_rejected must be"),
        ({"predicate": bool, "metric_if_rejected": float("nan")}, "finite number"),
        ({"predicate": bool, "patience": 0}, "patience must be an integer >= 1"),
    ],
)
def test_filter_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Filter(**kwargs)


def test_chain_argument_errors():
    with pytest.raises(MiddlewareError, match="first argument must be a strategy"):
        Chain(Filter(bool), UniformRandom())
    with pytest.raises(MiddlewareError, match="argument 2 must be middleware"):
        Chain(UniformRandom(), UniformRandom())
    with pytest.raises(MiddlewareError, match="ask\\(\\) and tell\\(\\)"):
        Chain(object())
    f = Filter(bool)
    Chain(UniformRandom(), f)
    with pytest.raises(MiddlewareError, match="already part of a Chain"):
        Chain(UniformRandom(), f)


def test_drain_rejected_of_plain_strategy_and_nested_chain():
    assert drain_rejected(Scripted([])) == []
    inner = Chain(Scripted([{"width": 16}, {"width": 4}]), Filter(lambda s: s["width"] < 8))
    outer = Chain(inner, Deduplicate())
    assert outer.ask() == {"width": 4}
    assert [r.sample for r in drain_rejected(outer)] == [{"width": 16}]


def test_deduplicate_tells_repeats_the_earlier_result():
    a, b, c = {"width": 4}, {"width": 8}, {"width": 16}
    inner = Scripted([a, b, a, c])
    chain = Chain(inner, Deduplicate())
    assert chain.ask() == a
    chain.tell(a, TrialResult(0.5))
    assert chain.ask() == b
    chain.tell(b, TrialResult(0.6))
    assert chain.ask() == c  # the repeat of a never reaches the runner
    assert [(s, r.score) for s, r in inner.told] == [(a, 0.5), (b, 0.6), (a, 0.5)]


def test_deduplicate_holds_a_repeat_of_a_running_sample():
    a, b = {"width": 4}, {"width": 8}
    inner = Scripted([a, a, b])
    chain = Chain(inner, Deduplicate())
    assert chain.ask() == a
    assert chain.ask() == b  # a is still running: its repeat waits for its result
    assert inner.told == []
    chain.tell(a, TrialResult(0.7))
    assert [(s, r.score) for s, r in inner.told] == [(a, 0.7), (a, 0.7)]


def test_deduplicate_ends_a_converged_strategy():
    a = {"width": 4}
    chain = Chain(Scripted([a] * 10), Deduplicate(patience=3))
    assert chain.ask() == a
    chain.tell(a, TrialResult(1.0))
    with pytest.warns(UserWarning, match="already-tried samples"):
        assert chain.ask() is None


def test_chain_state_restores_exactly():
    assert_resumes_exactly(lambda: Chain(UniformRandom(), Filter(lambda s: s["width"] != 8), Deduplicate()))
    assert_resumes_exactly(lambda: Chain(UniformRandom(), Filter(lambda s: s["width"] != 8, metric_if_rejected=0.0)))


def test_chain_state_is_json_and_checks_the_chain_shape():
    space = toy_space()
    chain = Chain(UniformRandom(), Filter(lambda s: True), Deduplicate())
    chain.setup(space, 1)
    s = chain.ask()
    chain.tell(s, TrialResult(0.3))
    state = json.loads(json.dumps(chain.state_dict()))
    other = Chain(UniformRandom(), Deduplicate())
    other.setup(space, 1)
    with pytest.raises(StrategyStateError, match=r"has middleware \['Filter', 'Deduplicate'\].*Rebuild the chain"):
        other.load_state_dict(state)
    same = Chain(UniformRandom(), Filter(lambda s: True), Deduplicate())
    same.setup(space, 1)
    same.load_state_dict(state)
    assert same.middlewares[0].n_passed == 1
    assert "results" not in state["middlewares"][1]["state"]  # compact: results come back from the history
    same.restore_history([(s, TrialResult(0.3))])
    assert same.middlewares[1]._results[sample_key(s)].score == 0.3
    assert same.ask() != s  # the strategy rebuilt its tried samples from the history too


def test_seed_imports_resolve_through_the_registry(nas_plugin):
    import nas_core

    classes = {name: type(name, (UniformRandom,), {}) for name in ("Random", "RegularizedEvolution", "PolicyBasedRL")}

    class Plugin:
        @nas_core.hookimpl
        def register_strategies(self, register):
            register("random", classes["Random"])
            register("regularized-evolution", classes["RegularizedEvolution"])
            register("ppo", classes["PolicyBasedRL"])

    nas_plugin(Plugin())
    from nas_core.strategy import PolicyBasedRL, Random, RegularizedEvolution

    assert (Random, RegularizedEvolution, PolicyBasedRL) == tuple(classes.values())
    with pytest.raises(ImportError, match="Nope"):
        from nas_core.strategy import Nope  # noqa: F401

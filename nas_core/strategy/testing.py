"""Checks every multi-trial strategy should pass, for first-party and third-party plugins.

    from nas_core.strategy.testing import toy_space, assert_reproducible, assert_resumes_exactly

    def test_my_strategy_resumes():
        assert_resumes_exactly(lambda: MyStrategy(), toy_space())

The toy space mixes a ValueChoice, a LayerChoice whose label is shared by two layers and
an InputChoice (values are lists of input indices): 3 * 2 * 4 * 2 = 48 samples.
"""
from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any, Callable, Mapping

import torch
from torch import nn

from nas_core.interfaces.strategy import FAILED, Strategy, TrialResult
from nas_core.space import InputChoice, LayerChoice, ModelSpace, ValueChoice, sample_key
from nas_core.strategy.base import SeededStrategy
from nas_core.strategy.rng import random_state, set_random_state

if TYPE_CHECKING:
    from nas_core.space.search_space import SearchSpace

__all__ = ["ToyNet", "toy_space", "toy_score", "run_schedule", "assert_reproducible", "assert_resumes_exactly",
           "assert_no_repeats", "hashed_score", "wide_space", "wide_score", "assert_state_compact", "assert_only_feasible",
           "NestedNet", "nested_space", "assert_no_equivalents", "assert_conformance", "assert_filter_guides",
           "assert_guided_search", "UniformRandom"]


class ToyNet(ModelSpace):
    """A runnable toy space: width x shared activation x input subset x pooling."""

    def __init__(self) -> None:
        super().__init__()
        width = ValueChoice([4, 8, 16], label="width")
        from nas_core.nn import layers as nas_nn

        self.conv = nas_nn.Conv2d(1, width, 3, padding=1)
        self.act1 = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh()}, label="act")
        self.act2 = LayerChoice({"relu": nn.ReLU(), "tanh": nn.Tanh()}, label="act")
        self.skip = InputChoice(n_candidates=2, n_chosen=None, label="skip")
        self.pool = LayerChoice([nn.AdaptiveAvgPool2d(1), nn.AdaptiveMaxPool2d(1)], label="pool")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.act1(self.conv(x))
        b = self.act2(a)
        y = self.skip([a, b])
        y = a if y is None else y
        return torch.flatten(self.pool(y), 1)


class UniformRandom(SeededStrategy):
    """A minimal seeded strategy for tests that need one without a strategy plugin: uniform draws
    among untried samples (among feasible ones too, once a ``Filter`` hands over its predicate);
    its state is its RNG, and a restored history marks the samples it had tried."""

    def _setup(self) -> None:
        self.rng = random.Random(self.seed)

    def ask(self) -> dict[str, Any] | None:
        codec, proposals = self._require_setup(), self._require_proposals()
        indices = proposals.draw(self.rng)
        if indices is None:
            return None
        proposals.mark(indices)
        return codec.decode(indices)

    def tell(self, sample: Mapping[str, object], result: TrialResult) -> None:
        proposals = self._require_proposals()
        proposals.mark(proposals.canonical_of(sample))

    def _state(self) -> dict[str, Any]:
        return {"rng": random_state(self.rng)}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        set_random_state(self.rng, state["rng"])


def toy_space() -> SearchSpace:
    """The :class:`~nas_core.space.SearchSpace` of a fresh :class:`ToyNet`."""
    return ToyNet().space


def toy_score(sample: Mapping[str, Any]) -> float:
    """A deterministic score with a unique best sample (width 16, tanh, skip [0, 1], pool 1)."""
    return (sample["width"] / 16 + (sample["act"] == "tanh") * 0.5 + len(sample["skip"]) * 0.3
            + sample["pool"] * 0.2 + 0.01 * sum(sample["skip"]))


def hashed_score(sample: Mapping[str, object]) -> float:
    """A deterministic pseudo-random score in [0, 1) for any sample (from its key)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(sample_key(sample).encode()).digest()[:6], "little") / 2**48


def _score_for(space: Any) -> Callable[[Mapping[str, Any]], float]:
    labels = set(space.labels)
    if labels == {"width", "act", "skip", "pool"}:
        return toy_score
    if labels == {f"w{i}" for i in range(6)}:
        return wide_score
    return hashed_score


def run_schedule(factory: Callable[[], Strategy], space: SearchSpace, seed: int, rounds: int, batch: int = 3,
                 score: Callable[[Mapping[str, Any]], float] | None = None, resume_after: int | None = None,
                 fail_every: int = 5, feasible: Callable[[dict[str, Any]], bool] | None = None,
                 on_round: Callable[[Strategy, int], None] | None = None) -> list[dict[str, Any]]:
    """Drive a strategy with a fixed schedule and return every sample it proposed, in order.

    ``score`` defaults to :func:`toy_score`, :func:`wide_score` or :func:`hashed_score` by space.
    Each round asks ``batch`` samples and tells all but the last, which stays pending until
    the start of the next round (so state is saved with a pending sample). Every
    ``fail_every``-th result is a failure. With ``resume_after=k`` the strategy is saved
    after round ``k`` (``state_dict`` -> ``json.dumps`` -> ``json.loads``) and replaced by
    a fresh instance that ``setup``, ``load_state_dict`` and ``restore_history`` (with every
    (sample, result) told so far) restore, as the runner does on resume. ``feasible`` is
    handed to the strategy with ``add_feasibility``; ``on_round(strategy, round)`` is called
    after each round.
    """
    score = score if score is not None else _score_for(space)
    strategy = factory()
    strategy.setup(space, seed)
    asked: list[dict[str, Any]] = []
    carry: dict[str, Any] | None = None
    n_told = 0

    history: list[tuple[dict[str, Any], TrialResult]] = []
    if feasible is not None:
        strategy.add_feasibility(feasible)

    def tell(s: dict[str, Any]) -> None:
        nonlocal n_told
        n_told += 1
        if fail_every and n_told % fail_every == 0:
            result = TrialResult(None, {}, FAILED, "synthetic failure")
        else:
            result = TrialResult(score(s), {"score": score(s)})
        strategy.tell(s, result)
        history.append((s, result))

    for r in range(rounds):
        if carry is not None:
            tell(carry)
            carry = None
        got = []
        for _ in range(batch):
            s = strategy.ask()
            if s is None:
                break
            got.append(s)
        asked += got
        if not got:
            break
        for s in got[:-1]:
            tell(s)
        carry = got[-1]
        if resume_after is not None and r + 1 == resume_after:
            state = json.loads(json.dumps(strategy.state_dict()))
            strategy = factory()
            strategy.setup(space, seed)
            if feasible is not None:
                strategy.add_feasibility(feasible)
            strategy.load_state_dict(state)
            strategy.restore_history(list(history))
        if on_round is not None:
            on_round(strategy, r)
    return asked


def assert_reproducible(factory: Callable[[], Strategy], space: SearchSpace | None = None, rounds: int = 8) -> None:
    """Same seed, same samples; another seed, other samples."""
    space = space if space is not None else toy_space()
    a = run_schedule(factory, space, 7, rounds)
    b = run_schedule(factory, space, 7, rounds)
    c = run_schedule(factory, space, 8, rounds)
    assert a == b, "the same seed gave different samples"
    assert a != c, "different seeds gave the same samples"
    for s in a:
        space.validate(s)


def assert_resumes_exactly(factory: Callable[[], Strategy], space: SearchSpace | None = None, rounds: int = 10,
                           resume_after: int = 4, seed: int = 3) -> None:
    """A strategy restored from its JSON state (with a pending sample) proposes what the original would have."""
    space = space if space is not None else toy_space()
    straight = run_schedule(factory, space, seed, rounds)
    resumed = run_schedule(factory, space, seed, rounds, resume_after=resume_after)
    assert resumed == straight, (
        "the restored strategy diverged at sample "
        f"{next((i for i, (x, y) in enumerate(zip(straight, resumed)) if x != y), min(len(straight), len(resumed)))}"
    )


def assert_no_repeats(factory: Callable[[], Strategy], space: SearchSpace | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """The strategy proposes every sample of the space exactly once, then None."""
    space = space if space is not None else toy_space()
    total = space.count()
    asked = run_schedule(factory, space, seed, rounds=total + 2, batch=1)
    keys = [sample_key(s) for s in asked]
    assert len(set(keys)) == len(keys), "a sample was proposed twice"
    assert len(keys) == total, f"proposed {len(keys)} distinct samples of {total} before stopping"
    return asked


class WideNet(ModelSpace):
    """Six width choices of ten values each (10**6 samples): big enough that a search never exhausts it."""

    def __init__(self, n_labels: int = 6, n_values: int = 10) -> None:
        super().__init__()
        from nas_core.nn import layers as nas_nn

        widths = [ValueChoice(list(range(1, n_values + 1)), label=f"w{i}") for i in range(n_labels)]
        layers: list[nn.Module] = []
        previous: Any = 1
        for w in widths:
            layers.append(nas_nn.Linear(previous, w))
            previous = w
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def wide_space() -> SearchSpace:
    """The space of a fresh :class:`WideNet` (labels ``w0`` .. ``w5``, values 1 .. 10)."""
    return WideNet().space


def wide_score(sample: Mapping[str, Any]) -> float:
    """A smooth score on :func:`wide_space` with its optimum at all widths 7."""
    return -sum((v - 7) ** 2 for v in sample.values()) / 100.0


def assert_state_compact(factory: Callable[[], Strategy], space: SearchSpace | None = None, short: int = 20,
                         long: int = 120, slack: float = 1.25) -> tuple[int, int]:
    """The JSON state after ``long`` trials is at most ``slack`` x the state after ``short`` (plus 1 KB):
    a state must not grow with the number of trials (the runner saves it after every trial)."""
    space = space if space is not None else wide_space()
    sizes: dict[int, int] = {}

    def measure(strategy: Strategy, r: int) -> None:
        if r + 1 in (short, long):
            sizes[r + 1] = len(json.dumps(strategy.state_dict()))

    run_schedule(factory, space, 0, long, batch=2, on_round=measure)
    assert len(sizes) == 2, f"the strategy stopped before {long} rounds on a space of {space.count()} samples"
    assert sizes[long] <= slack * sizes[short] + 1024, (
        f"the state grows with the trials: {sizes[short]} bytes after {short} rounds, {sizes[long]} after {long}; "
        "keep what the history gives (seen samples, archives) out of state_dict() and rebuild it in restore_history()"
    )
    return sizes[short], sizes[long]


def assert_only_feasible(factory: Callable[[], Strategy], space: SearchSpace, feasible: Callable[[dict[str, Any]], bool],
                         rounds: int = 30, seed: int = 0) -> list[dict[str, Any]]:
    """With ``feasible`` handed over (``add_feasibility``), every proposal is feasible, also after a resume."""
    for resume_after in (None, rounds // 2):
        asked = run_schedule(factory, space, seed, rounds, batch=2, feasible=feasible, resume_after=resume_after)
        assert asked, "the strategy proposed nothing"
        bad = [s for s in asked if not feasible(s)]
        assert not bad, f"{len(bad)} of {len(asked)} proposals were infeasible, e.g. {bad[0]}"
    return asked


class NestedNet(ModelSpace):
    """A space where different samples build the same network: a Repeat of 1..3 blocks, each a
    LayerChoice between a plain conv and a conv with a nested kernel choice and an InputChoice
    (the block's input or the conv's output). Blocks past the depth and the kernel of a "plain" block
    are unused; :meth:`canonical_sample` adds what the framework cannot see: a block whose skip
    takes its input ([0]) ignores its conv, so its kernel is unused too."""

    def __init__(self) -> None:
        super().__init__()
        from nas_core import nn as nas_nn
        from nas_core.space import Repeat

        def block(i: int) -> nn.Module:
            return LayerChoice({
                "plain": nn.Conv2d(4, 4, 3, padding=1),
                "rich": _RichBlock(i),
            }, label=f"op{i}")

        self.stem = nas_nn.Conv2d(1, 4, 3, padding=1)
        self.body = Repeat(block, (1, 3), label="depth")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.body(self.stem(x)).mean((2, 3)), 1)

    def canonical_sample(self, sample: dict[str, Any]) -> dict[str, Any]:
        for i in range(3):
            if sample[f"skip{i}"] == [0]:
                sample[f"kernel{i}"] = 0
        return sample


class _RichBlock(nn.Module):
    def __init__(self, i: int) -> None:
        super().__init__()
        self.conv = LayerChoice([nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 5, padding=2)], label=f"kernel{i}")
        self.skip = InputChoice(n_candidates=2, n_chosen=1, label=f"skip{i}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip([x, self.conv(x)])


def nested_space() -> SearchSpace:
    """The space of a fresh :class:`NestedNet`: 3 * (2 * 2 * 2)**3 = 1,536 samples, 4 + 16 + 64 = 84
    distinct networks (per block: plain, rich with skip [0], rich with skip [1] and either kernel)."""
    return NestedNet().space


def assert_no_equivalents(factory: Callable[[], Strategy], space: SearchSpace | None = None, seed: int = 0
                          ) -> list[dict[str, Any]]:
    """Never two proposals that build the same network (same canonical key), and every network once."""
    space = space if space is not None else nested_space()
    classes = {space.canonical_key(s) for s in space.enumerate()}
    asked = run_schedule(factory, space, seed, rounds=len(classes) + 5, batch=1)
    keys = [space.canonical_key(s) for s in asked]
    assert len(set(keys)) == len(keys), "two proposed samples build the same network"
    assert len(keys) == len(classes), f"proposed {len(keys)} distinct networks of {len(classes)} before stopping"
    return asked


def assert_conformance(factory: Callable[[], Strategy]) -> None:
    """Every check of this kit on the bundled spaces (a plugin's one-line conformance test)."""
    assert_reproducible(factory)
    assert_resumes_exactly(factory)
    assert_no_repeats(factory)
    assert_state_compact(factory)
    space = wide_space()
    assert_only_feasible(factory, space, lambda s: s["w0"] + s["w1"] <= 3)  # 3 of 100 value pairs: 3 %
    assert_no_equivalents(factory)


def assert_filter_guides(factory: Callable[[], Strategy]) -> None:
    """A ``Filter`` hands its predicate to the strategy: every proposal meets it and nothing is rejected."""
    from nas_core.strategy.middleware import Chain, Filter

    flt = Filter(lambda s: s["w0"] == 7 and s["w1"] == 7, patience=3)
    chain = Chain(factory(), flt)
    chain.setup(wide_space(), 0)
    assert flt.guiding
    for _ in range(20):
        s = chain.ask()
        assert s is not None and s["w0"] == 7 and s["w1"] == 7
    assert flt.n_rejected == 0 and chain.drain_rejected() == []


def assert_guided_search(factory: Callable[[], Strategy]) -> None:
    """What the runner relies on from a constraint-aware strategy: a compact state, an exact resume on a
    space with equivalent samples, only feasible proposals at 1 % feasibility, a guiding Filter, and no
    two proposals that build the same network."""
    short, long = assert_state_compact(factory)
    assert long <= short * 1.25 + 1024
    assert_resumes_exactly(factory, nested_space(), rounds=12, resume_after=5)
    asked = assert_only_feasible(factory, wide_space(), lambda s: s["w0"] == 7 and s["w1"] == 7, rounds=25)  # 1 %
    assert len(asked) == 50
    assert_filter_guides(factory)
    assert_no_equivalents(factory)

"""Checks every multi-trial strategy should pass, for first-party and third-party plugins.

    from nas_core.strategy.testing import toy_space, assert_reproducible, assert_resumes_exactly

    def test_my_strategy_resumes():
        assert_resumes_exactly(lambda: MyStrategy(), toy_space())

The toy space mixes a ValueChoice, a LayerChoice whose label is shared by two layers and
an InputChoice (values are lists of input indices): 3 * 2 * 4 * 2 = 48 samples.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

import torch
from torch import nn

from nas_core.interfaces.strategy import FAILED, Strategy, TrialResult
from nas_core.space import InputChoice, LayerChoice, ModelSpace, ValueChoice, sample_key

__all__ = ["ToyNet", "toy_space", "toy_score", "run_schedule", "assert_reproducible", "assert_resumes_exactly",
           "assert_no_repeats"]


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


def toy_space() -> Any:
    """The :class:`~nas_core.space.SearchSpace` of a fresh :class:`ToyNet`."""
    return ToyNet().space


def toy_score(sample: Mapping[str, Any]) -> float:
    """A deterministic score with a unique best sample (width 16, tanh, skip [0, 1], pool 1)."""
    return (sample["width"] / 16 + (sample["act"] == "tanh") * 0.5 + len(sample["skip"]) * 0.3
            + sample["pool"] * 0.2 + 0.01 * sum(sample["skip"]))


def run_schedule(factory: Callable[[], Strategy], space: Any, seed: int, rounds: int, batch: int = 3,
                 score: Callable[[Mapping[str, Any]], float] = toy_score, resume_after: int | None = None,
                 fail_every: int = 5) -> list[dict[str, Any]]:
    """Drive a strategy with a fixed schedule and return every sample it proposed, in order.

    Each round asks ``batch`` samples and tells all but the last, which stays pending until
    the start of the next round (so state is saved with a pending sample). Every
    ``fail_every``-th result is a failure. With ``resume_after=k`` the strategy is saved
    after round ``k`` (``state_dict`` -> ``json.dumps`` -> ``json.loads``) and replaced by
    a fresh instance that ``setup`` and ``load_state_dict`` restore.
    """
    strategy = factory()
    strategy.setup(space, seed)
    asked: list[dict[str, Any]] = []
    carry: dict[str, Any] | None = None
    n_told = 0

    def tell(s: dict[str, Any]) -> None:
        nonlocal n_told
        n_told += 1
        if fail_every and n_told % fail_every == 0:
            strategy.tell(s, TrialResult(None, {}, FAILED, "synthetic failure"))
        else:
            strategy.tell(s, TrialResult(score(s), {"score": score(s)}))

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
            strategy.load_state_dict(state)
    return asked


def assert_reproducible(factory: Callable[[], Strategy], space: Any | None = None, rounds: int = 8) -> None:
    """Same seed, same samples; another seed, other samples."""
    space = space if space is not None else toy_space()
    a = run_schedule(factory, space, 7, rounds)
    b = run_schedule(factory, space, 7, rounds)
    c = run_schedule(factory, space, 8, rounds)
    assert a == b, "the same seed gave different samples"
    assert a != c, "different seeds gave the same samples"
    for s in a:
        space.validate(s)


def assert_resumes_exactly(factory: Callable[[], Strategy], space: Any | None = None, rounds: int = 10,
                           resume_after: int = 4, seed: int = 3) -> None:
    """A strategy restored from its JSON state (with a pending sample) proposes what the original would have."""
    space = space if space is not None else toy_space()
    straight = run_schedule(factory, space, seed, rounds)
    resumed = run_schedule(factory, space, seed, rounds, resume_after=resume_after)
    assert resumed == straight, (
        "the restored strategy diverged at sample "
        f"{next((i for i, (x, y) in enumerate(zip(straight, resumed)) if x != y), min(len(straight), len(resumed)))}"
    )


def assert_no_repeats(factory: Callable[[], Strategy], space: Any | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """The strategy proposes every sample of the space exactly once, then None."""
    space = space if space is not None else toy_space()
    total = space.count()
    asked = run_schedule(factory, space, seed, rounds=total + 2, batch=1)
    keys = [sample_key(s) for s in asked]
    assert len(set(keys)) == len(keys), "a sample was proposed twice"
    assert len(keys) == total, f"proposed {len(keys)} distinct samples of {total} before stopping"
    return asked

"""PolicyBasedRL: autoregressive policy, PPO updates, masking, exact save/restore."""
from __future__ import annotations

import json
import math

import pytest
import torch

import nas_core
from nas_core import ConfigError, TrialResult
from nas_core.space import sample_key
from nas_core.strategy import StrategyStateError
from nas_core.strategy.testing import (
    assert_no_repeats,
    assert_reproducible,
    assert_resumes_exactly,
    toy_score,
    toy_space,
)
from nas_strategy_ppo import PolicyBasedRL
from nas_strategy_ppo.serialize import from_jsonable, to_jsonable


def test_registered_by_name():
    assert nas_core.get_registry().get("strategy", "ppo").factory is PolicyBasedRL


def test_same_seed_same_samples():
    assert_reproducible(lambda: PolicyBasedRL(batch_size=4), rounds=6)


def test_resumes_exactly_across_policy_updates():
    # batch_size 4 with 3 asks per round: updates happen before and after the save,
    # and the save holds a pending sample, a partly filled buffer and Adam's moments
    assert_resumes_exactly(lambda: PolicyBasedRL(batch_size=4), rounds=8, resume_after=4)
    assert_resumes_exactly(lambda: PolicyBasedRL(batch_size=4, allow_repeat=True), rounds=8, resume_after=4)


def test_never_repeats_and_exhausts_the_space():
    assert_no_repeats(lambda: PolicyBasedRL(batch_size=4))


def test_allow_repeat_can_repeat():
    ppo = PolicyBasedRL(allow_repeat=True, seed=0)
    ppo.setup(toy_space())
    keys = [sample_key(ppo.ask()) for _ in range(100)]
    assert len(set(keys)) < 100


def test_policy_starts_uniform_and_learns_to_propose_better_samples():
    space = toy_space()
    best = max(space.enumerate(), key=toy_score)
    worst = min(space.enumerate(), key=toy_score)
    for seed in range(3):
        ppo = PolicyBasedRL(allow_repeat=True, seed=seed)
        ppo.setup(space)
        assert ppo.log_prob(best) == pytest.approx(-math.log(48), abs=1e-5)  # uniform start
        scores = []
        for _ in range(64):
            s = ppo.ask()
            scores.append(toy_score(s))
            ppo.tell(s, TrialResult(scores[-1]))
        assert ppo.n_updates == 16
        # the first batch comes from the uniform policy (random samples average 1.5)
        assert sum(scores[-16:]) / 16 > sum(scores[:4]) / 4 + 0.2
        assert ppo.log_prob(worst) < math.log(1 / 48)


def test_rewards_from_filter_penalties_and_no_reward_for_failures():
    from nas_core.interfaces.strategy import FAILED, REJECTED

    space = toy_space()
    ppo = PolicyBasedRL(batch_size=2, seed=0)
    ppo.setup(space)
    a, b, c = ppo.ask(), ppo.ask(), ppo.ask()
    ppo.tell(a, TrialResult(None, status=FAILED, error="NaN"))
    ppo.tell(b, TrialResult(-1.0, status=REJECTED, error="too big"))
    assert ppo.n_updates == 0 and len(ppo._buffer) == 1
    ppo.tell(c, TrialResult(0.5))
    assert ppo.n_updates == 1
    assert sample_key(a) in {sample_key(space.validate(s)) for s in map(ppo.codec.decode, ppo.proposals.seen)}


def test_tensor_state_round_trip_is_exact():
    opt_state = {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 3)}, "betas": (0.9, 0.999)}
    back = from_jsonable(json.loads(json.dumps(to_jsonable(opt_state))))
    assert torch.equal(back[0]["exp_avg"], opt_state[0]["exp_avg"]) and back["betas"] == (0.9, 0.999)
    assert back[0]["step"].shape == () and 0 in back


def test_state_with_other_hidden_size_is_refused():
    space = toy_space()
    a = PolicyBasedRL(hidden_size=16)
    a.setup(space, 0)
    b = PolicyBasedRL(hidden_size=8)
    b.setup(space, 0)
    with pytest.raises(StrategyStateError, match="hidden_size=16"):
        b.load_state_dict(json.loads(json.dumps(a.state_dict())))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"clip": 1.5}, "clip must be a number > 0.0 and <= 1.0"),
        ({"learning_rate": 0}, "learning_rate must be a number > 0.0"),
        ({"entropy_coef": -1}, "entropy_coef must be a number >= 0.0"),
        ({"baseline_decay": 1.0}, r"baseline_decay must be in \[0, 1\)"),
        ({"allow_repeat": "no"}, "allow_repeat must be True or False"),
        ({"hidden_size": 0}, "hidden_size must be an integer >= 1"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        PolicyBasedRL(**kwargs)


def test_update_stays_finite_for_a_sample_the_policy_found_very_unlikely():
    # e.g. a uniform fallback sample under a confident policy: exp(log-ratio) must not overflow into NaN weights
    space = toy_space()
    ppo = PolicyBasedRL(batch_size=4, seed=0)
    ppo.setup(space)
    asked = [ppo.ask() for _ in range(4)]
    for episodes in ppo._pending.values():
        for episode in episodes:
            episode["logp"] = -500.0
    for i, s in enumerate(asked):
        ppo.tell(s, TrialResult(float(i)))  # the first (lowest) has a negative advantage
    assert ppo.n_updates == 1
    assert all(torch.isfinite(p).all() for p in ppo.policy.parameters())
    assert ppo.ask() is not None

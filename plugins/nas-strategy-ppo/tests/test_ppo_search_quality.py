"""PPO finds better samples than random search for the same number of evaluations, in bad-metric mode
(infeasible samples are evaluated and score 0), on a synthetic table with an accuracy/latency trade-off."""
from __future__ import annotations

import random
import statistics
from typing import Any, Callable, Mapping

import pytest

from nas_core import TrialResult
from nas_core.strategy.testing import wide_space
from nas_strategy_ppo import PolicyBasedRL

LABELS = [f"w{i}" for i in range(6)]


def synthetic_table(seed: int = 0) -> tuple[Callable[[Mapping[str, Any]], float], Callable[[Mapping[str, Any]], bool]]:
    """Accuracy and feasibility on :func:`wide_space` (10**6 samples): each value of each label adds to the
    accuracy and to the latency (the two correlated, as bigger layers are better and slower), plus a few
    pairwise interactions; the latency bound keeps about 30 % of the samples."""
    rng = random.Random(seed)
    gain = {(label, v): rng.uniform(0, 0.05) for label in LABELS for v in range(1, 11)}
    cost = {(label, v): gain[label, v] + rng.uniform(0, 0.05) for label in LABELS for v in range(1, 11)}
    pairs = {(a, b, u, w): rng.gauss(0, 0.01) for a, b in zip(LABELS, LABELS[1:]) for u in range(1, 11)
             for w in range(1, 11)}
    costs = sorted(sum(cost[label, rng.randint(1, 10)] for label in LABELS) for _ in range(4000))
    bound = costs[int(0.3 * len(costs))]

    def accuracy(s: Mapping[str, Any]) -> float:
        return 0.5 + sum(gain[label, s[label]] for label in LABELS) + sum(
            pairs[a, b, s[a], s[b]] for a, b in zip(LABELS, LABELS[1:]))

    def feasible(s: Mapping[str, Any]) -> bool:
        return sum(cost[label, s[label]] for label in LABELS) <= bound

    return accuracy, feasible


def ppo_best(seed: int, evaluations: int, accuracy, feasible) -> float:
    """PPO's best feasible accuracy in ``evaluations`` bad-metric evaluations (infeasible ones score 0)."""
    ppo = PolicyBasedRL()
    ppo.setup(wide_space(), seed)
    best = 0.0
    for _ in range(evaluations):
        sample = ppo.ask()
        score = accuracy(sample) if feasible(sample) else 0.0
        ppo.tell(sample, TrialResult(score))
        best = max(best, score)
    return best


def random_best(seed: int, evaluations: int, accuracy, feasible) -> float:
    """Random search's: ``evaluations`` distinct uniform samples."""
    rng = random.Random(seed)
    samples: set[tuple[int, ...]] = set()
    while len(samples) < evaluations:
        samples.add(tuple(rng.randint(1, 10) for _ in LABELS))
    return max(accuracy(s) if feasible(s) else 0.0 for s in (dict(zip(LABELS, v)) for v in samples))


@pytest.mark.slow
def test_ppo_beats_random_search_in_bad_metric_mode():
    accuracy, feasible = synthetic_table()
    seeds = range(6)
    ppo = [ppo_best(s, 80, accuracy, feasible) for s in seeds]
    rnd = [random_best(s, 80, accuracy, feasible) for s in seeds]
    assert statistics.median(ppo) > statistics.median(rnd), (ppo, rnd)
    assert sum(p > r for p, r in zip(ppo, rnd)) >= 5, (ppo, rnd)


def test_self_imitation_raises_the_best_samples_probability():
    """Same history, one update: the imitating policy gives the best told sample a higher probability than
    plain PPO does (which learns only from the batch's advantages), and imitation_coef=0 is plain PPO."""
    accuracy, feasible = synthetic_table()
    after = {}
    for name, options in {"imitating": {}, "plain": {"elite_size": 0}, "coef 0": {"imitation_coef": 0.0}}.items():
        ppo = PolicyBasedRL(seed=0, **options)
        ppo.setup(wide_space())
        asked = [ppo.ask() for _ in range(4)]
        scores = [accuracy(s) if feasible(s) else 0.0 for s in asked]
        for s, score in zip(asked, scores):
            ppo.tell(s, TrialResult(score))
        assert ppo.n_updates == 1
        best = asked[scores.index(max(scores))]
        after[name] = ppo.log_prob(best)
    assert after["imitating"] > after["plain"] + 0.05, after
    assert after["coef 0"] == pytest.approx(after["plain"], abs=1e-6)

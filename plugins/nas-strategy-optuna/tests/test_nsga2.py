"""NSGA-II (Optuna): the conformance kit, an exact multi-objective resume, a better front than random
search on a synthetic two-objective table, the experiment's objectives, and option errors."""
from __future__ import annotations

import json
import statistics

import pytest
import torch

import nas_core
from nas_core import ConfigError, TrialResult
from nas_core.pareto import hypervolume
from nas_core.strategy import Chain, Filter
from nas_core.strategy.testing import WideNet, assert_conformance, assert_filter_guides
from nas_strategy_optuna import NSGA2

TWO = {"quality": "max", "cost": "min"}


def two_objectives(sample):
    """A synthetic table on WideNet(4 labels, values 1..10): quality peaks at all 7s, cost is the sum of the
    values, so the front trades quality for smaller values (any value above 7 is dominated)."""
    values = list(sample.values())
    return {"quality": -sum((v - 7) ** 2 for v in values) / 100.0, "cost": float(sum(values))}


def normalised(points):
    """Both objectives on [0, 1], larger better: quality from its worst (-1.44) and cost from its worst (40)."""
    return [((p["quality"] + 1.44) / 1.44, (40.0 - p["cost"]) / 36.0) for p in points]


def search(strategy, space, seed, n, feasible=None):
    if feasible is not None:
        strategy = Chain(strategy, Filter(feasible))
    strategy.setup(space, seed)
    points = []
    for _ in range(n):
        s = strategy.ask()
        m = two_objectives(s)
        strategy.tell(s, TrialResult(m["quality"], m))
        points.append(m)
    return points


def test_registered_by_name():
    assert nas_core.get_registry().get("strategy", "nsga2").factory is NSGA2


@pytest.mark.slow
def test_conformance():
    assert_conformance(lambda: NSGA2(population_size=4))
    assert_filter_guides(lambda: NSGA2(population_size=4))


def run_with_resume(seed, resume_after):
    """Asks 3 per round, tells 2 with both objectives and keeps one pending; optionally saved and restored."""
    space = WideNet(n_labels=4).space
    make = lambda: NSGA2(population_size=6, objectives=TWO)  # noqa: E731
    strategy, history, asked, pending = make(), [], [], None
    strategy.setup(space, seed)
    for r in range(12):
        got = [strategy.ask() for _ in range(3)]
        asked += got
        for s in ([pending] if pending else []) + got[:-1]:
            result = TrialResult(two_objectives(s)["quality"], two_objectives(s))
            strategy.tell(s, result)
            history.append((s, result))
        pending = got[-1]
        if r + 1 == resume_after:
            state = json.loads(json.dumps(strategy.state_dict()))
            strategy = make()
            strategy.setup(space, seed)
            strategy.load_state_dict(state)
            strategy.restore_history(history)
    return asked, strategy


def test_multi_objective_search_resumes_exactly():
    straight, strategy = run_with_resume(5, None)
    resumed, _ = run_with_resume(5, 5)
    assert resumed == straight
    learned = [t for t in strategy.study.trials if t.state.name == "COMPLETE"]
    assert len(learned) == 12 * 3 - 1
    assert [t.user_attrs["nsga2:generation"] for t in learned] == [i // 6 for i in range(len(learned))]


def test_front_beats_random_search_on_a_synthetic_two_objective_table():
    from nas_strategy_random import Random

    space = WideNet(n_labels=4).space
    hv = {name: [hypervolume(normalised(search(make(), space, seed, 80)), (0.0, 0.0)) for seed in range(5)]
          for name, make in [("nsga2", lambda: NSGA2(objectives=TWO)), ("random", Random)]}
    assert statistics.median(hv["nsga2"]) > max(hv["random"]), hv  # the median run beats every random one
    assert statistics.median(hv["nsga2"]) == pytest.approx(0.711, abs=0.02), hv
    assert statistics.median(hv["random"]) == pytest.approx(0.680, abs=0.02), hv


def test_bounds_hold_in_a_multi_objective_search():
    space = WideNet(n_labels=4).space
    points = search(NSGA2(population_size=6, objectives=TWO), space, 0, 40, feasible=lambda s: s["w0"] <= 3)
    assert len(points) == 40
    strategy = NSGA2(population_size=6, objectives=TWO)
    chain = Chain(strategy, Filter(lambda s: s["w0"] <= 3))
    chain.setup(space, 1)
    assert all(chain.ask()["w0"] <= 3 for _ in range(30))


class CheapTrainer(nas_core.Trainer):
    objective = "accuracy"

    def fit(self, model):
        n = sum(p.numel() for p in model.parameters())
        return {"accuracy": 1.0 - 1.0 / (1.0 + n / 100.0)}


class ParamsCost:
    unit = "parameters"

    def __init__(self, model):
        self.space = nas_core.search_space(model)

    def profile(self, sample):
        return float(sum(p.numel() for p in self.space.freeze(sample).parameters()))


def test_follows_the_experiments_objectives(tmp_path):
    from nas_core.experiment import Experiment

    torch.manual_seed(0)
    model = WideNet(n_labels=3, n_values=4)
    strategy = NSGA2(population_size=4)
    exp = Experiment(model, CheapTrainer(), strategy, profilers={"params": ParamsCost(model)},
                     objectives={"accuracy": "max", "params": "min"}, constraints={"params": {"max": 30}},
                     max_trials=10, seed=0, workdir=tmp_path / "run", progress=False, dummy_input=torch.zeros(1, 1))
    exp.run()  # the bound puts a Chain(strategy, Filter) in front: it passes the objectives on
    assert strategy.objectives == {"accuracy": "max", "params": "min"}
    learned = [t for t in strategy.study.trials if t.state.name == "COMPLETE"]
    assert len(learned) == 10 and all(len(t.values) == 2 and t.values[1] <= 30 for t in learned)
    assert len(strategy.study.best_trials) >= 1


def test_own_objectives_are_checked_against_the_experiments_metrics():
    strategy = NSGA2(objectives={"accuracy": "max", "latncy": "min"})
    strategy.setup(WideNet(n_labels=2, n_values=3).space, 0)
    with pytest.raises(ConfigError, match=r"unknown objective 'latncy'.*Did you mean 'latency'"):
        strategy.set_objectives({"accuracy": "max"}, ["accuracy", "latency"])
    assert NSGA2(objectives={"score": "max", "latency": "min"}).set_objectives({"accuracy": "max"},
                                                                                ["accuracy", "latency"])


def test_without_objectives_outside_an_experiment_it_maximises_the_score():
    strategy = NSGA2(population_size=2)
    strategy.setup(WideNet(n_labels=2, n_values=3).space, 0)
    s = strategy.ask()
    strategy.tell(s, TrialResult(0.5, {}))
    assert strategy.objectives is None and strategy.study.trials[-1].values == [0.5]
    with pytest.raises(ConfigError, match="before any trial is told"):
        strategy.set_objectives({"accuracy": "max"}, ["accuracy"])


@pytest.mark.parametrize(
    "kwargs, message",
    [({"objectives": {"latency": "up"}}, r"the direction of 'latency' is 'up': write 'max'"),
     ({"objectives": ["accuracy", "latency"]}, "objectives must be a non-empty mapping"),
     ({"objectives": {}}, "objectives must be a non-empty mapping"),
     ({"population_size": 1}, "population_size must be an integer >= 2"),
     ({"crossover_prob": 1.5}, "crossover_prob must be a probability"),
     ({"mutation_prob": -0.1}, "mutation_prob must be a probability")],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        NSGA2(**kwargs)


def test_an_unknown_objective_stops_the_experiment_before_any_training(tmp_path):
    from nas_core.experiment import Experiment

    model = WideNet(n_labels=2, n_values=3)
    trained = []

    class Counting(CheapTrainer):
        def fit(self, model):
            trained.append(1)
            return super().fit(model)

    exp = Experiment(model, Counting(), NSGA2(objectives={"accuracy": "max", "parmas": "min"}),
                     profilers={"params": ParamsCost(model)}, max_trials=4, seed=0, workdir=tmp_path / "run",
                     progress=False)
    with pytest.raises(ConfigError, match=r"NSGA2: unknown objective 'parmas'.*Did you mean 'params'"):
        exp.run()
    assert trained == []


def test_an_experiment_with_nsga2_resumes(tmp_path):
    from nas_core.experiment import Experiment, TrialQuery

    def experiment(max_trials):
        torch.manual_seed(0)
        model = WideNet(n_labels=3, n_values=4)
        strategy = NSGA2(population_size=4)
        return strategy, Experiment(model, CheapTrainer(), strategy, profilers={"params": ParamsCost(model)},
                                    max_trials=max_trials, seed=0, workdir=tmp_path / "run", progress=False)

    experiment(6)[1].run()
    strategy, exp = experiment(10)
    exp.run()  # default objectives: the trainer's accuracy up, the profiler's params down
    assert strategy.objectives == {"accuracy": "max", "params": "min"}
    assert len([t for t in strategy.study.trials if t.state.name == "COMPLETE"]) == 10
    samples = [t.sample for t in TrialQuery(tmp_path / "run").trials()]
    assert len(samples) == 10 and len({json.dumps(s, sort_keys=True) for s in samples}) == 10

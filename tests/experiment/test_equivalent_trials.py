"""The runner never trains a network twice: a sample equivalent to an asked one is recorded, not trained."""
from __future__ import annotations

import torch

import nas_core
from nas_core.experiment import Experiment, TrialStore
from nas_core.interfaces import REJECTED, SUCCEEDED
from nas_core.strategy.testing import NestedNet


class CountingTrainer(nas_core.Trainer):
    """Scores a network by its parameter count and remembers every network it trained."""

    objective = "accuracy"
    trained: list[int] = []

    def fit(self, model):
        n = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, 1, 6, 6))
        CountingTrainer.trained.append(n)
        return {"accuracy": n / 2000.0}


class Repeating(nas_core.Strategy):
    """Proposes random samples with repeats allowed and without knowing about equivalence."""

    def setup(self, space, seed=None):
        super().setup(space, seed)
        self.rng = __import__("random").Random(seed)
        self.told = []

    def ask(self):
        return {label: self.rng.choice(c.domain) for label, c in self.space.choices.items()}

    def tell(self, sample, result):
        self.told.append((sample, result))


def _run(tmp_path, max_trials, strategy=None):
    model = NestedNet()
    exp = Experiment(model, CountingTrainer(), strategy or Repeating(), max_trials=max_trials, seed=3,
                     workdir=tmp_path / "run", progress=False)
    exp.run()
    return model.space, exp


def test_equivalent_samples_are_recorded_but_never_trained(tmp_path):
    CountingTrainer.trained = []
    space, exp = _run(tmp_path, max_trials=30)
    trials = TrialStore(tmp_path / "run" / "trials.db").trials()
    trained = [t for t in trials if t.status == SUCCEEDED]
    keys = [space.canonical_key(t.sample) for t in trained]
    assert len(trained) == 30 == len(CountingTrainer.trained)
    assert len(set(keys)) == len(keys), "a network was trained twice"
    equivalents = [t for t in trials if t.status == REJECTED and "equivalent to an earlier trial" in (t.error or "")]
    assert equivalents, "the random proposals of a space with 84 networks repeat within 30 trials"
    by_key = {space.canonical_key(t.sample): t.score for t in trained}
    for t in equivalents:  # told the score of the network it repeats
        assert t.score == by_key[space.canonical_key(t.sample)]


def test_resume_remembers_the_networks_trained_before(tmp_path):
    CountingTrainer.trained = []
    space, _ = _run(tmp_path, max_trials=12)
    _run(tmp_path, max_trials=40)
    trained = [t for t in TrialStore(tmp_path / "run" / "trials.db").trials() if t.status == SUCCEEDED]
    keys = [space.canonical_key(t.sample) for t in trained]
    assert len(trained) == 40 and len(set(keys)) == 40

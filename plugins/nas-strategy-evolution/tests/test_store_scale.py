"""The store after N trials is at most linear in N: measured at two sizes with RegularizedEvolution (whose state
holds a population) and with Random (this plugin's test extra)."""
from __future__ import annotations

import sqlite3

import pytest
import torch
from torch import nn

import nas_core
from nas_core import ModelSpace, ValueChoice
from nas_core import nn as nnn
from nas_core.experiment import Experiment, TrialStore


class WideSpace(ModelSpace):
    """10**5 samples: the strategies never run out."""

    def __init__(self) -> None:
        super().__init__()
        ws = [ValueChoice([2, 3, 4, 5, 6, 7, 8, 9, 10, 11], label=f"w{i}") for i in range(5)]
        dims = [4, *ws]
        self.body = nn.Sequential(*[nnn.Linear(dims[i], dims[i + 1]) for i in range(5)])

    def forward(self, x):
        return self.body(x)


class CountTrainer(nas_core.Trainer):
    """No training: the parameter count as the score."""

    objective = "accuracy"

    def fit(self, model):
        return {"accuracy": sum(p.numel() for p in model.parameters()) / 1000.0}


def used_bytes(folder) -> int:
    """Bytes of the store's pages in use (the file, minus free pages) once every connection is closed."""
    con = sqlite3.connect(f"file:{folder / 'trials.db'}?mode=ro", uri=True)
    pages, free, size = (con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count",
                                                                              "page_size"))
    con.close()
    return (pages - free) * size


def run(folder, n: int, strategy: str) -> int:
    torch.manual_seed(0)
    exp = Experiment(WideSpace(), CountTrainer(), strategy, max_trials=n, workdir=folder, seed=0,
                     keep_weights=False, progress=False)
    exp.run()
    exp.store.close()
    return used_bytes(folder)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["random", "regularized-evolution"])
def test_store_grows_linearly_with_the_trials(tmp_path, strategy):
    TrialStore(tmp_path / "empty").close()
    empty = used_bytes(tmp_path / "empty")
    small, large = 60, 240
    at_small = run(tmp_path / "run", small, strategy) - empty
    at_large = run(tmp_path / "run", large, strategy) - empty  # the same search, resumed and extended
    per_trial_small, per_trial_large = at_small / small, at_large / large
    # linear: the bytes per trial do not grow with the trials (quadratic growth would make them 4x)
    assert per_trial_large <= 1.3 * per_trial_small, (per_trial_small, per_trial_large)
    assert per_trial_large < 5 * 1024, per_trial_large

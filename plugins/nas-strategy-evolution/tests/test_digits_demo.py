"""End to end on real parts: the digits CNN space, the classification trainer, RegularizedEvolution, and the
demo config (examples/digits.toml) with the FLOPs and params profilers (this plugin's test extra)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import nas_core
from nas_core.experiment import Experiment, load_config

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.slow
def test_evolution_on_digits_with_a_cost_bound(tmp_path):
    sys.path.insert(0, str(EXAMPLES))
    try:
        from digits_space import DigitsSpace
    finally:
        sys.path.remove(str(EXAMPLES))
    torch.manual_seed(0)
    space = DigitsSpace()
    trainer = nas_core.create("trainer", "classification", dataset="digits", epochs=2, lr=0.005)
    strategy = nas_core.create("strategy", "regularized-evolution", population_size=4, sample_size=2)
    exp = Experiment(space, trainer, strategy, profilers={"params": nas_core.create("profiler", "params", space)},
                     constraints={"params": {"max": 30_000}}, max_trials=4, workdir=tmp_path, seed=0, progress=False)
    best = exp.run()
    trials = exp.store.trials()
    trained = [t for t in trials if t.status != "rejected"]
    assert len(trained) == 4 and all(t.status == "succeeded" for t in trained)
    assert all(t.costs["params"] <= 30_000 for t in trained)
    assert all(t.costs["params"] > 30_000 for t in trials if t.status == "rejected")
    assert best.metrics["accuracy"] > 0.5  # 2 epochs on digits: well above chance (0.1)
    arch = json.loads((tmp_path / "best_architecture.json").read_text())
    assert nas_core.space.decode_architecture(space, arch) == best.sample
    frozen = space.freeze(best.sample)
    frozen.load_state_dict(torch.load(tmp_path / "best_model.pt"))
    x, _ = trainer._data()[1][:8]
    assert frozen(x).shape == (8, 10)


def test_demo_config_validates_and_builds(tmp_path):
    exp = load_config(EXAMPLES / "digits.toml").build(workdir=str(tmp_path), progress=False)
    assert [o.metric for o in exp.objectives] == ["accuracy", "flops", "params"]
    assert exp.units["flops"] == "MACs" and exp.executor.max_workers == 2
    assert exp.max_duration == 150 and exp.max_trials == 36
    exp.executor.shutdown()

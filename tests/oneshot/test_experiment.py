"""One-shot strategies through the experiment runner (store, outputs) and the architecture file round trip."""
import json

import pytest
import torch

import nas_core
from nas_core.experiment import Experiment, TrialStore
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler
from nas_core.space import apply_fixed_architecture
from nas_trainer_classification import ClassificationTrainer


def _small_trainer(epochs=1):
    from nas_trainer_classification import digits_dataset

    train, val = digits_dataset(0)
    x, y = train[:256]
    vx, vy = val[:128]
    return ClassificationTrainer(train=(x, y), val=(vx, vy), epochs=epochs, lr=0.005, seed=0)


@pytest.mark.parametrize("name", ["darts", "enas", "proxyless"])
def test_one_shot_strategy_runs_in_the_experiment_runner(name, tmp_path):
    torch.manual_seed(0)
    space = DigitsOneShotSpace()
    strategy = nas_core.create("strategy", name, epochs=1)
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    exp = Experiment(space, _small_trainer(), strategy, profilers={"flops": prof}, workdir=tmp_path, progress=False)
    best = exp.run()
    trials = TrialStore(tmp_path).trials()
    assert len(trials) == 1 and trials[0].status == "succeeded" and best.id == 1
    exported = strategy.export()
    assert trials[0].sample == exported
    assert trials[0].costs["flops"] == prof.profile(exported)
    for f in ("best_architecture.json", "oneshot_architecture.json", "best_model.pt", "summary.json", "pareto.png"):
        assert (tmp_path / f).exists(), f
    meta = TrialStore(tmp_path).get_meta("oneshot")
    assert meta["strategy"] == type(strategy).__name__ and len(meta["history"]) == 1
    # a second run of a finished experiment does not search again
    again = Experiment(space, _small_trainer(), nas_core.create("strategy", name, epochs=1), profilers={"flops": prof},
                       workdir=tmp_path, progress=False)
    assert again.run().sample == exported and len(TrialStore(tmp_path).trials()) == 1


def test_export_file_is_seed_json_and_reloads(tmp_path):
    torch.manual_seed(0)
    space = DigitsOneShotSpace()
    strategy = nas_core.create("strategy", "darts", epochs=1)
    strategy.fit(space, _small_trainer())
    sample = strategy.export(file=tmp_path / "arch.json")
    arch = json.loads((tmp_path / "arch.json").read_text())
    assert arch["op1"] in ["conv3x3", "convk", "conv1x1", "blur"] and set(arch) == set(sample)
    model = apply_fixed_architecture(DigitsOneShotSpace(), tmp_path / "arch.json")
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert not any(isinstance(m, nas_core.LayerChoice) for m in model.modules())
    idx = strategy.export(file=tmp_path / "idx.json", fmt="index")
    assert idx == sample and isinstance(json.loads((tmp_path / "idx.json").read_text())["op1"], int)


def test_config_file_runs_a_one_shot_search(tmp_path):
    (tmp_path / "oneshot.toml").write_text(
        '[experiment]\nseed = 0\n\n[space]\nclass = "nas_core.oneshot.testing:DigitsOneShotSpace"\n'
        'input_shape = [1, 1, 8, 8]\n\n[strategy]\nname = "proxyless"\nepochs = 1\napplied_hardware = "flops"\n'
        'dummy_input = [1, 1, 8, 8]\nref_latency = 50000.0\n\n[trainer]\nname = "classification"\n'
        'dataset = "digits"\nepochs = 1\n')
    if "flops" not in nas_core.available("profiler"):
        pytest.skip("needs the flops profiler plugin")
    from click.testing import CliRunner

    from nas_core.cli.main import cli

    result = CliRunner().invoke(cli, ["search", str(tmp_path / "oneshot.toml"), "--no-progress",
                                       "--workdir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "trials: 1 succeeded" in result.output and "best architecture" in result.output

"""Every example of docs/migrating-from-nni.md runs (seed code, imports changed) on small spaces and data."""
import json
import logging
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from click.testing import CliRunner

import nas_core
from nas_core import search_space
from nas_core.errors import ConfigError
from nas_core.oneshot.testing import DigitsOneShotSpace, ZeroLossTrainer

from .seed_models import MobileNet, Net, accuracy, learnable_data

HERE = Path(__file__).parent
DOC = HERE.parents[1] / "docs" / "migrating-from-nni.md"


def example(name: str) -> str:
    """The code block after ``<!-- example: name -->`` in the migration guide."""
    m = re.search(rf"<!-- example: {re.escape(name)} -->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
    assert m, f"docs/migrating-from-nni.md has no example {name!r}"
    return m.group(1)


def run(name: str, **namespace):
    ns = {"torch": torch, "nn": nn, "nas_core": nas_core, **namespace}
    exec(compile(example(name), f"<{name}>", "exec"), ns)
    return ns


class Seed000Space(nas_core.space.ModelSpace):
    """Seed 000's MyModelSpace: a 'layer1' choice with a 'conv' candidate, on a 3-vector input."""

    def __init__(self):
        super().__init__()
        self.layer1 = nas_core.space.LayerChoice({"conv": nn.Linear(3, 8), "fc": nn.Linear(3, 2)}, label="layer1")

    def forward(self, x):
        return self.layer1(x)


def test_profiler_example():
    ns = run("profiler", net=Seed000Space())
    assert ns["flops"] == 24  # a 3 -> 8 linear layer: 24 MACs (+ bias convention of the plugin)


def test_filter_chain_example():
    space = DigitsOneShotSpace()
    ns = run("filter-chain", model_space=space, dummy_input=torch.zeros(1, 1, 8, 8))
    assert type(ns["strategy"]).__name__ == "Chain"


def test_expectation_penalty_and_range_filter_examples():
    space, dummy = DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8)
    from nas_profiler_flops import FlopsProfiler

    ns = run("expectation-penalty", model_space=space, dummy_input=dummy, FlopsProfiler=FlopsProfiler)
    from nas_strategy_proxyless import ProxylessNAS

    assert isinstance(ns["strategy"], ProxylessNAS) and ns["strategy"].penalty.baseline == 300e6
    ns = run("range-filter", model_space=space, dummy_input=dummy, FlopsProfiler=FlopsProfiler)
    assert ns["strategy"].filter.min == 200e6


def test_debug_logging_example(caplog):
    from nas_profiler_flops import FlopsProfiler

    root = logging.getLogger("nas_core")
    before = root.level
    try:
        with caplog.at_level(logging.DEBUG, logger="nas_core"):
            run("debug-logging", model_space=DigitsOneShotSpace(), dummy_input=torch.zeros(1, 1, 8, 8),
                FlopsProfiler=FlopsProfiler)
    finally:
        root.setLevel(before)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "shape inference of DigitsOneShotSpace" in text and "shape formula" in text
    assert "cost model (MACs)" in text


def test_lookup_penalty_example():
    from nas_core.oneshot import ExpectationProfilerPenalty
    from nas_core.strategy import DARTS

    space = DigitsOneShotSpace()
    ns = run("lookup-penalty", model_space=space, ExpectationProfilerPenalty=ExpectationProfilerPenalty, DARTS=DARTS)
    est = ns["penalty"].profiler
    assert est.labels == ["op1"] and est.exact
    ns["strategy"].epochs = 1
    ns["strategy"].fit(space, ZeroLossTrainer(n=16, batch_size=8))
    assert ns["penalty"].last_cost is not None


@pytest.mark.slow
def test_proxyless_trainer_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = MobileNet()
    args = types.SimpleNamespace(epochs=2, warmup_epochs=1, batch_size=16, workers=0, device="cpu", log_frequency=2,
                                 arc_learning_rate=1e-3, grad_reg_loss_type="mul#log", applied_hardware="flops",
                                 reference_latency=30e6)
    ns = run("proxyless-trainer", model=model, dataset_train=learnable_data(64, (3, 8, 8)),
             optimizer=torch.optim.SGD(model.parameters(), 0.05, momentum=0.9), accuracy=accuracy,
             args=args, grad_reg_loss_params={"alpha": 0.2, "beta": 0.3})
    arch = json.loads((tmp_path / "final_architecture.json").read_text())
    assert set(arch) == {"block1", "block2"} and ns["trainer"].metrics["acc5"] >= ns["trainer"].metrics["acc1"]


def test_seed004_space_example():
    ns = run("seed004-space")
    space = search_space(ns["Net"]())
    assert space.labels == ["conv1", "skipcon"] and space.choices["skipcon"].domain == [[], [0]]


def _cifar_stand_in(root, train, download, transform):
    """The test's data where the seed downloads CIFAR10: MNIST-shaped tensors for seed 004's Net."""
    return learnable_data(64 if train else 32, (1, 12, 12), seed=0 if train else 1)


def test_enas_trainer_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = run("enas-trainer", Net=Net, CIFAR10=_cifar_stand_in, train_transform=None, valid_transform=None)
    arch = json.loads((tmp_path / "model_dir" / "final_architecture.json").read_text())
    assert set(arch) == {"conv1", "skipcon"} and "acc1" in ns["trainer"].metrics
    assert len(ns["trainer"].history) == 10
    # the seed's call as written names the data it needs
    with pytest.raises(ConfigError, match="dataset_train= and dataset_valid="):
        ns["enas"].EnasTrainer(Net(), num_epochs=10, log_frequency=10)
    # and the retraining example reads the export
    ns = run("retrain", Net=Net)
    assert ns["model"](torch.zeros(1, 1, 12, 12)).shape == (1, 10)


def test_darts_trainer_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = Net()
    args = types.SimpleNamespace(epochs=2, batch_size=16, log_frequency=2, unrolled=True)
    ns = run("darts-trainer", model=model, criterion=nn.CrossEntropyLoss(), accuracy=accuracy,
             optim=torch.optim.SGD(model.parameters(), 0.025, momentum=0.9, weight_decay=3e-4),
             dataset_train=learnable_data(64, (1, 12, 12)), dataset_valid=learnable_data(32, (1, 12, 12), seed=1),
             args=args)
    assert ns["trainer"].strategy.unrolled
    assert set(json.loads((tmp_path / "final_architecture.json").read_text())) == {"conv1", "skipcon"}


USER_CODE = '''
import torch
import torch.nn.functional as F
import nas_core.trial
from seed_models import Net, learnable_data


def train(model):
    x, y = learnable_data(64, (1, 12, 12)).tensors
    opt = torch.optim.Adam(model.parameters(), 0.01)
    model.train()
    for epoch in range(2):
        for i in range(0, 64, 16):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[i:i + 16]), y[i:i + 16])
            loss.backward()
            opt.step()
        nas_core.trial.report_intermediate_result({"loss": float(loss), "kernel": model.conv1.kernel_size[0]})


def test(model):
    x, y = learnable_data(32, (1, 12, 12), seed=1).tensors
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())
'''


def write_trial(folder: Path) -> Path:
    shutil.copy(HERE / "seed_models.py", folder / "seed_models.py")
    script = folder / "trial.py"
    script.write_text(USER_CODE + "\n" + example("trial-script"))
    return script


@pytest.mark.slow
def test_trial_script_standalone(tmp_path):
    write_trial(tmp_path)
    proc = subprocess.run([sys.executable, "trial.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # standalone: the first candidates (conv1 = the 3x3 kernel) and printed reports
    assert "[nas_core.trial] intermediate result: {'loss':" in proc.stdout and "'kernel': 3.0}" in proc.stdout
    final = re.search(r"\[nas_core.trial\] final result: ([0-9.]+)", proc.stdout)
    assert final and 0.0 <= float(final.group(1)) <= 1.0


@pytest.mark.slow
def test_trial_script_under_nas_search_with_the_script_trainer(tmp_path, monkeypatch):
    from nas_core.cli.main import cli

    write_trial(tmp_path)
    monkeypatch.chdir(tmp_path)
    config = example("trial-config").replace("[experiment]\n", '[experiment]\nworkdir = "run"\nseed = 1\n')
    config = config.replace("max_trials = 3", "max_trials = 2")  # two subprocess trials are enough here
    (tmp_path / "config.toml").write_text(config)
    res = CliRunner().invoke(cli, ["search", "config.toml", "--no-progress"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["results", "run", "--json"])
    data = json.loads(res.output)
    trials = [t for t in data["trials"] if t["status"] == "succeeded"]
    assert len(trials) == 2
    assert all(0.0 <= t["metrics"]["accuracy"] <= 1.0 for t in trials)
    assert len({json.dumps(t["sample"], sort_keys=True) for t in trials}) == 2  # two architectures ran


def test_space_export_cli(tmp_path, monkeypatch):
    from nas_core.cli.main import cli

    shutil.copy(HERE / "seed_models.py", tmp_path / "seed_models.py")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    res = CliRunner().invoke(cli, ["space", "export", "seed_models:Net", "out/search_space.json"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "out" / "search_space.json").read_text())
    assert data["conv1"]["_type"] == "layer_choice" and data["conv1"]["_value"] == [0, 1]
    assert data["skipcon"]["_type"] == "input_choice" and data["skipcon"]["_value"] == [[], [0]]
    assert data["skipcon"]["default"] == [0] and data["conv1"]["paths"] == ["conv1"]
    res = CliRunner().invoke(cli, ["space", "export", "seed_models:Nope", "x.json"])
    assert res.exit_code != 0 and "has no attribute 'Nope'" in res.output

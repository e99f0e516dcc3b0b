"""The migration guide's ENAS example (seed 004's EnasTrainer, and retraining its export);
``nas_core.strategy.ENAS`` is this plugin's class."""
import json
from functools import partial
from pathlib import Path

import pytest
import torch

from nas_core.errors import ConfigError
from nas_core.testing.doc_examples import run_doc_example
from nas_core.testing.seed_models import Net, learnable_data

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "migrating-from-nni.md"
run = partial(run_doc_example, GUIDE)


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


def test_enas_is_the_core_name():
    from nas_core.strategy import ENAS
    from nas_strategy_enas import ENAS as E

    assert ENAS is E

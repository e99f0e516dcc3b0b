"""Seed 004's EnasTrainer call, with NNI's arguments."""
import json
import logging

import pytest
import torch
import torch.nn as nn

from nas_core.errors import ConfigError
from nas_core.testing.seed_models import Net, learnable_data
from nas_strategy_enas import EnasTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


def test_seed004_enas_trainer_call(tmp_path, caplog):
    model = Net()
    dataset_train, dataset_valid = learnable_data(64, (1, 12, 12)), learnable_data(32, (1, 12, 12), seed=1)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9, weight_decay=1.0E-4)

    def top1_accuracy(output, target):
        batch_size = target.size(0)
        _, predicted = torch.max(output.data, 1)
        return (predicted == target).sum().item() / batch_size

    def metrics_fn(output, target):
        return {"acc1": top1_accuracy(output, target)}

    with caplog.at_level(logging.INFO, logger="nas_core"):
        trainer = EnasTrainer(model, loss=criterion, metrics=metrics_fn, reward_function=top1_accuracy,
                              optimizer=optimizer, num_epochs=3, dataset_train=dataset_train,
                              dataset_valid=dataset_valid, batch_size=16, workers=0, log_frequency=2, mutator_steps=5)
        trainer.train()
    trainer.export(file=tmp_path / "model_dir" / "final_architecture.json")
    arch = json.loads((tmp_path / "model_dir" / "final_architecture.json").read_text())
    assert set(arch) == {"conv1", "skipcon"}
    assert any("Step [" in r.getMessage() and "acc1" in r.getMessage() for r in caplog.records)
    # one entry per epoch; the warm-up epoch (40 % of 3, rounded down to 1) trains no controller: no reward
    rewards = [h["reward"] for h in trainer.history]
    assert len(rewards) == 3 and rewards[0] is None
    assert all(r is not None and 0 <= r <= 1 for r in rewards[1:])
    assert trainer.strategy.arch_data == "val"  # as NNI: the controller learns on dataset_valid
    # retrain the export (seed 004): apply it to a fresh model
    from nas_core import apply_fixed_architecture

    fixed = apply_fixed_architecture(Net(), tmp_path / "model_dir" / "final_architecture.json")
    assert fixed(torch.zeros(2, 1, 12, 12)).shape == (2, 10)


def test_seed004_enas_call_without_data_says_what_to_pass():
    with pytest.raises(ConfigError, match="dataset_train= and dataset_valid="):
        EnasTrainer(Net(), num_epochs=10, log_frequency=10)


def test_enas_trainer_nni_only_arguments_warn_and_mutator_is_refused():
    data = learnable_data(16, (1, 12, 12))
    with pytest.warns(UserWarning, match="aux_weight=0.4 has no counterpart"):
        EnasTrainer(Net(), dataset_train=data, dataset_valid=data, aux_weight=0.4)
    with pytest.raises(ConfigError, match="mutator"):
        EnasTrainer(Net(), dataset_train=data, dataset_valid=data, mutator=object())

"""Seed 004's DartsTrainer call with NNI's arguments (first and second order), and NNI's callbacks on it."""
import json

import pytest
import torch
import torch.nn as nn

from nas_core import search_space
from nas_core.errors import ConfigError
from nas_core.testing.seed_models import Net, accuracy, learnable_data
from nas_strategy_darts import DartsTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


def test_darts_trainer_call_first_and_second_order(tmp_path):
    results = {}
    for unrolled in (False, True):
        model = Net()
        trainer = DartsTrainer(model, loss=nn.CrossEntropyLoss(),
                               metrics=lambda output, target: accuracy(output, target, topk=(1,)),
                               optimizer=torch.optim.SGD(model.parameters(), 0.025, momentum=0.9, weight_decay=3e-4),
                               num_epochs=2, dataset_train=learnable_data(64, (1, 12, 12)),
                               dataset_valid=learnable_data(32, (1, 12, 12), seed=1), batch_size=16, workers=0,
                               log_frequency=4, arc_learning_rate=3e-3, unrolled=unrolled)
        trainer.train()
        results[unrolled] = trainer.strategy.supernet.arch_parameters()
        arch = trainer.export(file=tmp_path / f"arch_{unrolled}.json")
        assert search_space(Net()).validate(arch)
        assert "acc1" in trainer.metrics
    # the second-order gradient is another gradient: the logits end elsewhere
    assert any(not torch.allclose(a, b) for a, b in zip(results[False], results[True]))


def test_callbacks_get_nni_epoch_events():
    events = []

    class Recorder:
        def build(self, trainer):
            events.append(("build", type(trainer).__name__))

        def on_epoch_begin(self, epoch):
            events.append(("begin", epoch))

        def on_epoch_end(self, epoch):
            events.append(("end", epoch))

    data = learnable_data(32, (1, 12, 12))
    trainer = DartsTrainer(Net(), num_epochs=2, dataset_train=data, dataset_valid=data, batch_size=16, workers=0,
                           callbacks=[Recorder()])
    trainer.train(validate=False)
    assert events == [("build", "DartsTrainer"), ("begin", 0), ("end", 0), ("begin", 1), ("end", 1)]


def test_nni_callbacks_schedule_the_learning_rate_and_checkpoint_every_epoch(tmp_path):
    from nas_core.oneshot import ArchitectureCheckpoint, LRSchedulerCallback, ModelCheckpoint

    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    seen = []

    class LearningRates:
        def on_epoch_begin(self, epoch):
            opt = trainer.adapter.training_optimizer
            seen.append(None if opt is None else opt.param_groups[0]["lr"])

    data = learnable_data(32, (1, 12, 12))
    trainer = DartsTrainer(model, optimizer=optimizer, num_epochs=3, dataset_train=data, dataset_valid=data,
                           batch_size=16, workers=0, callbacks=[LRSchedulerCallback(scheduler), LearningRates(),
                                                                ArchitectureCheckpoint(tmp_path / "arch"),
                                                                ModelCheckpoint(tmp_path / "model")])
    trainer.train(validate=False)
    # epoch 0 begins before the supernet's optimizer exists; then the rate halves after every epoch
    assert seen[1:] == pytest.approx([0.05, 0.025]) and optimizer.param_groups[0]["lr"] == pytest.approx(0.0125)
    assert sorted(p.name for p in (tmp_path / "arch").iterdir()) == ["epoch_0.json", "epoch_1.json", "epoch_2.json"]
    last = json.loads((tmp_path / "arch" / "epoch_2.json").read_text())
    assert search_space(Net()).validate(last) == trainer.strategy.current_architecture()
    state = torch.load(tmp_path / "model" / "epoch_2.pth")
    assert set(state) == set(trainer.strategy.supernet.state_dict())
    with pytest.raises(ConfigError, match="only mode='epoch'"):
        LRSchedulerCallback(scheduler, mode="batch")
    with pytest.raises(ConfigError, match="scheduler built on your optimizer"):
        LRSchedulerCallback(optimizer)

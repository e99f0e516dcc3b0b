"""Seed 003's ProxylessTrainer call and seed 004's EnasTrainer / DartsTrainer, with NNI's arguments."""
import json
import logging

import pytest
import torch
import torch.nn as nn

from nas_core import search_space
from nas_core.errors import ConfigError
from nas_core.oneshot.adapter import TrainerAdapter
from nas_core.training import metrics_dict, rebuild_optimizer, resolve_devices
from nas_strategy_darts import DartsTrainer
from nas_strategy_enas import EnasTrainer
from nas_strategy_proxyless import ProxylessTrainer

from .seed_models import MobileNet, Net, accuracy, learnable_data


@pytest.mark.slow
def test_seed003_proxyless_trainer_with_every_listed_argument(tmp_path, caplog):
    model = MobileNet()
    dataset_train = learnable_data(96, (3, 8, 8))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=4e-5)
    with caplog.at_level(logging.INFO, logger="nas_core"):
        trainer = ProxylessTrainer(model,
                                   loss=nn.CrossEntropyLoss(),
                                   metrics=lambda output, target: accuracy(output, target, topk=(1, 5,)),
                                   optimizer=optimizer,
                                   num_epochs=3,
                                   dataset=dataset_train,
                                   warmup_epochs=1,
                                   batch_size=16,
                                   workers=0,
                                   device="cpu",
                                   log_frequency=2,
                                   arc_learning_rate=1e-3,
                                   grad_reg_loss_type="add#linear",
                                   grad_reg_loss_params={"lambda": 0.1},
                                   applied_hardware="flops", dummy_input=(1, 3, 224, 224),
                                   ref_latency=30e6)
        trainer.train()
    arch = trainer.export(file=tmp_path / "final_architecture.json")
    assert set(arch) == {"block1", "block2"}
    assert json.loads((tmp_path / "final_architecture.json").read_text()) == arch
    # the hardware term ran on FLOPs at 224x224: its expected cost is in the history
    assert all("expected_cost" in h for h in trainer.history) and len(trainer.history) == 3
    assert 20e6 < trainer.history[-1]["expected_cost"] < 200e6
    # metrics returned a dict: logged every 2 steps and in the validation result
    steps = [r.getMessage() for r in caplog.records if "Step [" in r.getMessage()]
    assert steps and "acc1" in steps[0] and "acc5" in steps[0]
    assert set(trainer.metrics) >= {"loss", "acc1", "acc5"} and 0 <= trainer.metrics["acc1"] <= trainer.metrics["acc5"]
    # the user's optimizer was re-created, same class and settings, on the supernet's weights
    rebuilt = trainer.adapter.make_optimizer(trainer.strategy.supernet.weight_parameters())
    assert type(rebuilt) is torch.optim.SGD
    g = rebuilt.param_groups[0]
    assert (g["lr"], g["momentum"], g["nesterov"], g["weight_decay"]) == (0.05, 0.9, True, 4e-5)


def test_proxyless_trainer_hardware_term_moves_toward_cheaper():
    """With a strong 'add#linear' term and no task signal, the probabilities favour the cheapest candidates."""
    model = MobileNet()
    data = learnable_data(64, (3, 8, 8))
    trainer = ProxylessTrainer(model, loss=lambda out, y: out.sum() * 0.0, dataset=data, num_epochs=2, batch_size=16,
                               workers=0, device="cpu", arc_learning_rate=0.05, grad_reg_loss_params={"lambda": 5.0},
                               applied_hardware="flops", dummy_input=(1, 3, 32, 32), ref_latency=1e5)
    trainer.train(validate=False)
    probs = trainer.strategy.supernet.arch.probs()
    assert int(probs["block1"].argmax()) == 2 and int(probs["block2"].argmax()) == 1  # the 1x1 convolutions
    assert trainer.export() == {"block1": 2, "block2": 1}


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


def test_user_pieces_helpers():
    w = nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([w], lr=0.01, betas=(0.8, 0.9))
    other = [nn.Parameter(torch.ones(2))]
    new = rebuild_optimizer(opt, other)
    assert type(new) is torch.optim.Adam and new.param_groups[0]["betas"] == (0.8, 0.9)
    assert new.param_groups[0]["params"] == other
    assert metrics_dict(0.5) == {"metric": 0.5}
    assert metrics_dict({"acc1": torch.tensor(0.25)}) == {"acc1": 0.25}
    with pytest.raises(ConfigError, match="metrics must be numbers"):
        metrics_dict({"acc": "high"})
    with pytest.raises(ConfigError, match="torch.optim.Optimizer"):
        rebuild_optimizer("sgd", other)
    with pytest.raises(ConfigError, match="give GPU indices"):
        resolve_devices(["x"])


def test_device_list_wraps_in_data_parallel():
    """CPU-only check of the code path (no GPU here): a device list gives DataParallel over those ids."""
    main, ids = resolve_devices([0, 1])
    assert str(main) == "cuda:0" and ids == [0, 1]
    assert resolve_devices([2]) == (torch.device("cuda:2"), [])
    adapter = TrainerAdapter(dataset=learnable_data(8, (1, 12, 12)), device=[0, 1])
    wrapped = adapter.parallel(nn.Linear(2, 2))
    assert isinstance(wrapped, nn.DataParallel)
    assert TrainerAdapter(dataset=learnable_data(8, (1, 12, 12)), device="cpu").parallel(nn.Linear(2, 2)).__class__ is nn.Linear


def test_adapter_argument_errors():
    data = learnable_data(8, (1, 12, 12))
    with pytest.raises(ConfigError, match="not both"):
        TrainerAdapter(dataset=data, dataset_train=data)
    with pytest.raises(ConfigError, match="log_frequency"):
        TrainerAdapter(dataset=data, log_frequency=0)
    with pytest.raises(ConfigError, match="loss must be callable"):
        TrainerAdapter(dataset=data, loss="ce")
    with pytest.raises(ConfigError, match="Dataset or an"):
        TrainerAdapter(dataset=[1, 2, 3])

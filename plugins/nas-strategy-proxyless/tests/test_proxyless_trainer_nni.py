"""Seed 003's ProxylessTrainer call, with NNI's arguments."""
import json
import logging

import pytest
import torch
import torch.nn as nn

from nas_core.testing.seed_models import MobileNet, accuracy, learnable_data
from nas_strategy_proxyless import ProxylessTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


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
    # seed 003's hardware term has no bound: the argmax is exported, not the most accurate candidate
    assert trainer.strategy.export_report.method == "argmax (hardware objective without a bound)"

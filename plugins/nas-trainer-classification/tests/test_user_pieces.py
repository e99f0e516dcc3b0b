"""ClassificationTrainer with the user's own loss, metrics function (float or dict), optimizer object and data."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from nas_core.errors import ConfigError
from nas_core.threads import torch_threads
from nas_trainer_classification import ClassificationTrainer


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def _data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    return TensorDataset(x, (x[:, 0] > 0).long())


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))


def test_user_optimizer_is_recreated_on_the_trained_model():
    template = nn.Linear(6, 2)
    user_opt = torch.optim.SGD(template.parameters(), lr=0.2, momentum=0.8, weight_decay=1e-4)
    trainer = ClassificationTrainer(train=_data(128, 0), val=_data(64, 1), epochs=3, batch_size=32, optimizer=user_opt)
    model = _model()
    opt = trainer.make_optimizer(model.parameters())
    assert type(opt) is torch.optim.SGD and opt.param_groups[0]["params"] == list(model.parameters())
    g = opt.param_groups[0]
    assert (g["lr"], g["momentum"], g["weight_decay"]) == (0.2, 0.8, 1e-4)
    assert trainer.fit(model)["accuracy"] > 0.8  # it trains with those settings


def test_user_loss_and_dict_metrics_and_objective():
    calls = []

    def loss(out, y):
        calls.append(len(y))
        return nn.functional.cross_entropy(out, y) * 2.0

    def metrics(out, y):
        return {"acc1": float((out.argmax(1) == y).float().mean()), "mean_logit": float(out.mean())}

    trainer = ClassificationTrainer(train=_data(128, 0), val=_data(64, 1), epochs=2, batch_size=32, lr=0.01,
                                    loss=loss, metrics=metrics, objective="acc1")
    result = trainer.fit(_model())
    assert trainer.objective == "acc1" and set(result) >= {"acc1", "mean_logit", "accuracy", "loss", "train_loss"}
    assert result["acc1"] == pytest.approx(result["accuracy"])  # same top-1, averaged over the batches by size
    assert len(calls) > 0
    plain = ClassificationTrainer(train=_data(128, 0), val=_data(64, 1), epochs=2, batch_size=32, lr=0.01)
    assert result["loss"] == pytest.approx(2.0 * plain.fit(_model())["loss"], rel=1e-5)  # the user's loss is the loss


def test_float_metrics_are_named_metric():
    trainer = ClassificationTrainer(train=_data(64, 0), val=_data(32, 1), epochs=1, metrics=lambda out, y: 0.25)
    assert trainer.fit(_model())["metric"] == 0.25


def test_bad_pieces_are_errors():
    with pytest.raises(ConfigError, match="loss must be callable"):
        ClassificationTrainer(dataset="digits", loss="ce")
    with pytest.raises(ConfigError, match="metrics must be a function"):
        ClassificationTrainer(dataset="digits", metrics=3)
    trainer = ClassificationTrainer(train=_data(64, 0), val=_data(32, 1), epochs=1, objective="acc5")
    with pytest.raises(ConfigError, match="objective 'acc5' is not among the metrics"):
        trainer.fit(_model())
    with pytest.raises(ConfigError, match="give GPU indices"):
        ClassificationTrainer(dataset="digits", device=["tpu"])
    if not torch.cuda.is_available():  # a GPU list on this CPU machine: the usual CUDA error, from the list path
        with pytest.raises(ConfigError, match="'cuda:0' was asked for but CUDA is not available"):
            ClassificationTrainer(dataset="digits", device=[0, 1])

"""ClassificationTrainer: digits, tensors, seeding, NaN stop, optimizer names, one-shot pieces."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import nas_core
from nas_core.errors import ConfigError
from nas_core.threads import torch_threads
from nas_trainer_classification import ClassificationTrainer, NonFiniteLossError, digits_dataset


def _cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 16, 10))


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def test_registered_as_classification():
    t = nas_core.create("trainer", "classification", dataset="digits", epochs=1)
    assert isinstance(t, ClassificationTrainer) and t.objective == "accuracy"


def test_digits_split_is_fixed_by_seed_and_stratified():
    a_train, a_val = digits_dataset(seed=0)
    b_train, b_val = digits_dataset(seed=0)
    c_train, _ = digits_dataset(seed=1)
    assert len(a_train) + len(a_val) == 1797 and len(a_val) == 450
    assert torch.equal(a_train.tensors[0], b_train.tensors[0]) and not torch.equal(a_train.tensors[0], c_train.tensors[0])
    assert a_train.tensors[0].shape[1:] == (1, 8, 8) and float(a_train.tensors[0].max()) <= 1.0
    assert torch.bincount(a_val.tensors[1]).min() >= 43  # every class in the validation set


def test_learns_digits_and_same_seed_same_metrics():
    t = ClassificationTrainer(dataset="digits", epochs=3, lr=0.01)
    m1 = t.fit(_cnn())
    m2 = t.fit(_cnn())
    assert m1 == m2
    assert m1["accuracy"] > 0.85 and m1["loss"] < 0.6 and set(m1) == {"accuracy", "loss", "train_loss"}
    other = ClassificationTrainer(dataset="digits", epochs=3, lr=0.01, seed=1).fit(_cnn())
    assert other != m1


def test_tensor_data_and_custom_datasets():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    y = (x[:, 0] > 0).long()
    t = ClassificationTrainer(train=(x, y), val=(x, y), epochs=30, batch_size=16, optimizer="sgd", lr=0.5, momentum=0.9)
    torch.manual_seed(0)
    metrics = t.fit(nn.Linear(4, 2))
    assert metrics["accuracy"] >= 0.95
    ev = t.evaluate(nn.Linear(4, 2))
    assert set(ev) == {"accuracy", "loss"}


def test_nan_loss_stops_training():
    x = torch.ones(8, 2)
    x[3, 0] = float("nan")
    t = ClassificationTrainer(train=(x, torch.zeros(8, dtype=torch.long)), val=(x, torch.zeros(8, dtype=torch.long)),
                              batch_size=4)
    with pytest.raises(NonFiniteLossError, match="training loss became nan at epoch 1, batch 1.*Lower the learning rate"):
        t.fit(nn.Linear(2, 2))


def test_one_shot_pieces():
    t = ClassificationTrainer(dataset="digits", batch_size=32)
    xb, yb = next(iter(t.train_loader()))
    xb2, _ = next(iter(t.train_loader()))
    assert xb.shape == (32, 1, 8, 8) and torch.equal(xb, xb2)  # seeded order
    model = _cnn()
    loss = t.loss(model(xb), yb)
    assert loss.ndim == 0 and loss > 0
    opt = t.make_optimizer(model.parameters())
    assert isinstance(opt, torch.optim.Adam) and opt.param_groups[0]["lr"] == 1e-3
    assert t.device == torch.device("cpu")
    assert sum(len(y) for _, y in t.val_loader()) == 450


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown optimizer 'adma'. Did you mean .*'adam'"):
        ClassificationTrainer(dataset="digits", optimizer="adma")
    with pytest.raises(ConfigError, match="dataset 'digit' is not built in. Did you mean 'digits'"):
        ClassificationTrainer(dataset="digit")
    with pytest.raises(ConfigError, match="needs data"):
        ClassificationTrainer()
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        ClassificationTrainer(dataset="digits", epochs=0)
    with pytest.raises(ConfigError, match="inputs have 3 rows but targets have 2"):
        ClassificationTrainer(train=(torch.zeros(3, 2), torch.zeros(2)), val=(torch.zeros(1, 2), torch.zeros(1)))
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            ClassificationTrainer(dataset="digits", device="cuda")


def test_pickles_without_the_builtin_data():
    import pickle

    t = ClassificationTrainer(dataset="digits")
    t._data()
    blob = pickle.dumps(t)
    assert len(blob) < 5000
    assert pickle.loads(blob).fit is not None

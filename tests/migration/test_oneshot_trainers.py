"""The core's pieces under NNI's one-shot trainers: user-optimizer rebuilding, metrics, devices, the adapter's
argument checks (the trainers themselves are tested with their plugins: ``plugins/nas-strategy-*/tests``)."""
import pytest
import torch
import torch.nn as nn

from nas_core.errors import ConfigError
from nas_core.oneshot.adapter import TrainerAdapter
from nas_core.testing.seed_models import learnable_data
from nas_core.training import metrics_dict, rebuild_optimizer, resolve_devices


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

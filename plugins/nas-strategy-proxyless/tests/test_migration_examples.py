"""The migration guide's ProxylessNAS examples: the expectation penalty (and ENAS' range filter on the same
profiler), seed 003's ProxylessTrainer; ``nas_core.strategy.ProxylessNAS`` is this plugin's class."""
import json
import types
from functools import partial
from pathlib import Path

import pytest
import torch

from nas_core.oneshot.testing import DigitsOneShotSpace
from nas_core.testing.doc_examples import run_doc_example
from nas_core.testing.seed_models import MobileNet, accuracy, learnable_data

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "migrating-from-nni.md"
run = partial(run_doc_example, GUIDE)


def test_expectation_penalty_and_range_filter_examples():
    space, dummy = DigitsOneShotSpace(), torch.zeros(1, 1, 8, 8)
    from nas_profiler_flops import FlopsProfiler

    ns = run("expectation-penalty", model_space=space, dummy_input=dummy, FlopsProfiler=FlopsProfiler)
    from nas_strategy_proxyless import ProxylessNAS

    assert isinstance(ns["strategy"], ProxylessNAS) and ns["strategy"].penalty.baseline == 300e6
    ns = run("range-filter", model_space=space, dummy_input=dummy, FlopsProfiler=FlopsProfiler)
    assert ns["strategy"].filter.min == 200e6


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


def test_proxyless_is_the_core_name():
    from nas_core.strategy import ProxylessNAS
    from nas_strategy_proxyless import ProxylessNAS as P

    assert ProxylessNAS is P

"""The migration guide's DARTS examples: a lookup-table penalty, seed 004's DartsTrainer;
``nas_core.strategy.DARTS`` is this plugin's class."""
import json
import types
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from nas_core.oneshot.testing import DigitsOneShotSpace, ZeroLossTrainer
from nas_core.testing.doc_examples import run_doc_example
from nas_core.testing.seed_models import Net, accuracy, learnable_data

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "migrating-from-nni.md"
run = partial(run_doc_example, GUIDE)


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


def test_darts_is_the_core_name():
    from nas_core.strategy import DARTS
    from nas_strategy_darts import DARTS as D

    assert DARTS is D

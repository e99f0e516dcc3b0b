"""DARTS' and ProxylessNAS' single-path tuning before the checked export (issue #19): by default DARTS, whose
weights trained on the mixture, gets one epoch of fair single paths and ProxylessNAS (single-path weights) none;
``ExportConfig(tune_steps=...)`` sets the count for either."""
import pytest
import torch

from nas_core.oneshot.data import split_loaders
from nas_core.oneshot.export import ExportConfig
from nas_core.oneshot.testing import DigitsOneShotSpace
from nas_strategy_darts import DARTS
from nas_strategy_proxyless import ProxylessNAS
from nas_trainer_classification import ClassificationTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


def _count_fair_steps(strategy):
    calls = []
    step = strategy._warmup_step

    def counted(*args, **kwargs):
        calls.append(1)
        return step(*args, **kwargs)

    strategy._warmup_step = counted
    return calls


@pytest.mark.parametrize("cls, tune_steps, extra", [
    ("darts", None, "epoch"),  # weights trained on the mixture: one epoch of single paths by default
    ("proxyless", None, 0),    # single-path weights: no tuning by default
    ("darts", 0, 0),
    ("proxyless", 3, 3),
])
def test_single_path_tuning_before_the_checked_export(cls, tune_steps, extra):
    trainer = ClassificationTrainer(dataset="digits", lr=0.005, seed=0)
    epoch = len(split_loaders(trainer, "split", 0.5, 0)[0])
    strategy = {"darts": DARTS, "proxyless": ProxylessNAS}[cls](
        epochs=1, warmup_epochs=1, seed=0, export_config=ExportConfig(tune_steps=tune_steps, top_k=2, sampled=0,
                                                                      explore=0, batches=1))
    calls = _count_fair_steps(strategy)
    torch.manual_seed(0)
    strategy.fit(DigitsOneShotSpace(), trainer)
    assert len(calls) == epoch + (epoch if extra == "epoch" else extra)  # warm-up epoch + tuning steps
    assert strategy.export_report.method == "checked"


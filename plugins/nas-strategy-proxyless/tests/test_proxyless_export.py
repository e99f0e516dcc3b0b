"""The checked export of a fitted ProxylessNAS: the supernet's best feasible candidate, then the best of the
candidates retrained alone, recorded next to the architecture file."""
import json
import math

import pytest
import torch

from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.export import Budget, checked_export, supernet_accuracy
from nas_core.oneshot.testing import MacsProfiler, fresh_space, middle_budget
from nas_strategy_proxyless import ProxylessNAS
from nas_trainer_classification import ClassificationTrainer

pytestmark = pytest.mark.usefixtures("nas_one_torch_thread")


@pytest.fixture(scope="module")
def fitted():
    space = fresh_space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    budget = middle_budget(space, prof)
    strategy = ProxylessNAS(epochs=2, penalty=ExpectationProfilerPenalty(prof, budget), seed=0)
    strategy.fit(space, ClassificationTrainer(dataset="digits", lr=0.005, seed=0))
    return strategy, prof, budget


def test_checked_export_returns_the_best_feasible_candidate(fitted):
    strategy, prof, budget = fitted
    report = strategy.export_report
    assert report.method == "checked" and len(report.ranked) >= 8
    assert all(r["cost"] <= budget for r in report.ranked)
    exported = strategy.export()
    assert prof.profile(exported) <= budget
    # re-score every ranked candidate on the same data: the export is the best (no tie band) ...
    sn = strategy.supernet
    data = [b for _, b in zip(range(8), torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.randn(64, 1, 8, 8), torch.randint(0, 10, (64,))), batch_size=32))]
    samples = [r["sample"] for r in report.ranked]
    strict = checked_export(sn, data, Budget(prof.profile, budget), device=torch.device("cpu"),
                            generator=torch.Generator().manual_seed(0), likely=samples, sampled=[], tie_band=0.0)
    accs = {json.dumps(r["sample"], sort_keys=True): supernet_accuracy(sn, r["sample"], data, torch.device("cpu"))
            for r in strict.ranked}
    assert accs[json.dumps(strict.sample, sort_keys=True)] == max(accs.values())
    # ... with the default band, the supernet's pick is the costliest of those within one standard error of the best
    top = max(r["accuracy"] for r in report.ranked)
    chosen = next(r for r in report.ranked if r["sample"] == report.supernet_pick)
    band = math.sqrt(top * (1 - top) / 600)
    assert chosen["accuracy"] >= top - band
    assert chosen["cost"] == max(r["cost"] for r in report.ranked if r["accuracy"] >= top - band - 1e-12)
    # ... and the export is the most accurate of the retrained candidates (or within the band of it)
    retrained = {json.dumps(r["sample"], sort_keys=True): r["accuracy"] for r in report.retrained}
    assert len(retrained) == 8 and json.dumps(exported, sort_keys=True) in retrained
    assert retrained[json.dumps(exported, sort_keys=True)] >= max(retrained.values()) - math.sqrt(0.25 / 512)


def test_export_json_records_the_method(fitted, tmp_path):
    strategy, _, _ = fitted
    strategy.export(tmp_path / "arch.json")
    meta = json.loads((tmp_path / "arch.export.json").read_text())
    assert meta["method"] == "checked" and meta["sample"] == strategy.export()
    assert json.loads((tmp_path / "arch.json").read_text()).keys() == strategy.export().keys()

"""Issue #19: warm-up freezes the architecture, the penalty costs only what exceeds the budget, the checked
export returns the best feasible candidate it ranked, and the same seed exports the same architecture
whatever the global RNG state."""
import itertools
import json
import math
import random

import pytest
import torch

from nas_core.oneshot import ArchParameters, ExpectationProfilerPenalty, SampleProfilerPenalty, Supernet
from nas_core.oneshot.export import (
    Budget, ExportConfig, NoFeasibleExportError, checked_export, supernet_accuracy, top_k_samples,
)
from nas_core.oneshot.sampling import FairPathSampler
from nas_core.oneshot.base import default_warmup
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler
from nas_strategy_darts import DARTS
from nas_strategy_enas import ENAS
from nas_strategy_proxyless import ProxylessNAS
from nas_trainer_classification import ClassificationTrainer


def _space():
    torch.manual_seed(0)
    return DigitsOneShotSpace()


@pytest.fixture(scope="module")
def setup():
    space = _space()
    prof = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    costs = sorted(prof.profile(s) for s in itertools.islice(space.space.enumerate(), 0, None, 7))
    return space, prof, costs[len(costs) // 3]


def _trainer():
    return ClassificationTrainer(dataset="digits", lr=0.005, seed=0)


def _snapshot(params):
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize("cls", [DARTS, ProxylessNAS])
def test_warmup_leaves_architecture_logits_untouched(setup, cls):
    space, prof, budget = setup
    strategy = cls(epochs=2, warmup_epochs=1, penalty=ExpectationProfilerPenalty(prof, budget), seed=3)
    seen = []
    strategy.on_epoch = lambda epoch, epochs, info: seen.append(_snapshot(strategy.supernet.arch_parameters()))
    strategy.fit(space, _trainer())
    initial = _snapshot(ArchParameters(strategy.supernet.space, generator=torch.Generator().manual_seed(3)).parameters())
    assert all(torch.equal(a, b) for a, b in zip(seen[0], initial))  # after the warm-up epoch: as initialised
    assert not all(torch.equal(a, b) for a, b in zip(seen[1], initial))  # the next epoch moves them


def test_enas_warmup_takes_no_controller_step(setup):
    space, prof, budget = setup
    strategy = ENAS(epochs=3, warmup_epochs=2, ctrl_steps=3, seed=1)
    seen = []
    strategy.on_epoch = lambda epoch, epochs, info: seen.append(_snapshot(strategy.controller.parameters()))
    strategy.fit(space, _trainer())
    assert all(torch.equal(a, b) for a, b in zip(seen[0], seen[1]))
    assert not all(torch.equal(a, b) for a, b in zip(seen[1], seen[2]))
    assert [h["reward"] is None for h in strategy.history] == [True, True, False]


def test_default_warmup_is_forty_percent():
    assert [default_warmup(e) for e in (1, 2, 5, 10, 50)] == [0, 1, 2, 4, 20]
    assert DARTS(epochs=10).warmup_epochs == 4 and DARTS(epochs=10, warmup_epochs=0).warmup_epochs == 0


def test_penalty_below_budget_has_zero_gradient(setup):
    space, prof, _ = setup
    arch = ArchParameters(Supernet(space).space, generator=torch.Generator().manual_seed(0))
    probs = arch.probs()
    expected = float(prof.expectation(probs).detach())
    for baseline, zero in ((expected * 1.5, True), (expected * 0.5, False)):
        arch.zero_grad()
        ExpectationProfilerPenalty(prof, baseline)(torch.zeros(()), arch.probs()).backward()
        grads = [p.grad for p in arch.parameters()]
        assert all(g is None or torch.all(g == 0) for g in grads) == zero
    pen = SampleProfilerPenalty(prof, 1e12)
    assert pen.shape_reward(0.5, space.space.default()) == 0.5  # far below the budget: the reward is untouched


def test_fair_sampler_trains_every_candidate_equally_often():
    domains = {"a": [1, 2, 3], "b": ["x", "y"]}
    sampler = FairPathSampler(domains, torch.Generator().manual_seed(0))
    draws = [sampler() for _ in range(12)]
    for label, dom in domains.items():
        for start in range(0, 12, len(dom)):
            assert sorted(map(str, (d[label] for d in draws[start:start + len(dom)]))) == sorted(map(str, dom))


def test_top_k_samples_match_brute_force():
    gen = torch.Generator().manual_seed(5)
    domains = {"a": [0, 1, 2], "b": [0, 1], "c": [0, 1, 2, 3]}
    probs = {l: torch.softmax(torch.randn(len(d), generator=gen), -1) for l, d in domains.items()}
    accept = lambda s: s["a"] + s["c"] <= 3  # noqa: E731
    every = []
    for combo in itertools.product(*domains.values()):
        s = dict(zip(domains, combo))
        if accept(s):
            every.append((sum(math.log(float(probs[l][v])) for l, v in s.items()), s))
    every.sort(key=lambda t: -t[0])
    got = top_k_samples(probs, domains, 5, accept)
    assert [s for _, s in got] == [s for _, s in every[:5]]
    assert [round(lp, 9) for lp, _ in got] == [round(lp, 9) for lp, _ in every[:5]]


def test_export_config_rejects_bad_values():
    with pytest.raises(ValueError, match="top_k"):
        ExportConfig(top_k=0)
    with pytest.raises(ValueError, match="explore_floor"):
        ExportConfig(explore_floor=1.5)
    with pytest.raises(ValueError, match="tie_band"):
        ExportConfig(tie_band=-1)
    with pytest.raises(ValueError, match="export_mode"):
        DARTS(export_mode="best")
    with pytest.raises(TypeError, match="ExportConfig"):
        DARTS(export_config={"top_k": 3})


@pytest.fixture(scope="module")
def fitted(setup):
    space, prof, budget = setup
    strategy = ProxylessNAS(epochs=2, penalty=ExpectationProfilerPenalty(prof, budget), seed=0)
    strategy.fit(space, _trainer())
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
    # ... and with the default band, the costliest of those within one standard error of the best
    top = max(r["accuracy"] for r in report.ranked)
    chosen = next(r for r in report.ranked if r["sample"] == exported)
    band = math.sqrt(top * (1 - top) / 600)
    assert chosen["accuracy"] >= top - band
    assert chosen["cost"] == max(r["cost"] for r in report.ranked if r["accuracy"] >= top - band - 1e-12)


def test_export_json_records_the_method(fitted, tmp_path):
    strategy, _, _ = fitted
    strategy.export(tmp_path / "arch.json")
    meta = json.loads((tmp_path / "arch.export.json").read_text())
    assert meta["method"] == "checked" and meta["sample"] == strategy.export()
    assert json.loads((tmp_path / "arch.json").read_text()).keys() == strategy.export().keys()


def test_argmax_mode_and_no_feasible_candidate(setup):
    space, prof, budget = setup
    strategy = DARTS(epochs=1, penalty=ExpectationProfilerPenalty(prof, budget), export_mode="argmax")
    strategy.fit(space, _trainer())
    assert strategy.export_report.method == "argmax" and strategy.export() == strategy.supernet.export()
    soft = DARTS(epochs=1, penalty=ExpectationProfilerPenalty(prof, 1.0))  # no architecture is that cheap
    with pytest.warns(UserWarning, match="cheapest of the 8 most probable"):
        soft.fit(space, _trainer())
    assert soft.export_report.method.startswith("checked (nothing within the budget")
    with pytest.raises(NoFeasibleExportError, match="fits the budget"):
        checked_export(strategy.supernet, [], Budget(prof.profile, 1.0), device=torch.device("cpu"),
                       generator=torch.Generator().manual_seed(0), likely=[space.space.default()], sampled=[])


@pytest.mark.slow
@pytest.mark.parametrize("cls", [DARTS, ENAS, ProxylessNAS])
def test_same_seed_same_export_whatever_the_global_rng(setup, cls):
    space, prof, budget = setup
    penalty = (SampleProfilerPenalty if cls is ENAS else ExpectationProfilerPenalty)(prof, budget)
    exports = []
    for noise in (1, 12345):
        torch.manual_seed(noise)
        random.seed(noise)
        torch.randn(noise % 97 + 1)
        strategy = cls(epochs=2, penalty=penalty, seed=4, **({"ctrl_steps": 3} if cls is ENAS else {}))
        strategy.fit(_space(), _trainer())
        exports.append(strategy.export())
    assert exports[0] == exports[1]

"""The one-shot loop stores each epoch's figures and architecture probabilities as the search goes (nas dashboard)."""
import pytest
import torch

import nas_core
from nas_core.experiment import Experiment, TrialStore
from nas_core.oneshot import ExpectationProfilerPenalty
from nas_core.oneshot.testing import DigitsOneShotSpace, MacsProfiler, ZeroLossTrainer


@pytest.mark.parametrize("name", ["darts", "enas"])
def test_probabilities_are_stored_per_epoch(name, tmp_path):
    torch.manual_seed(0)
    space = DigitsOneShotSpace()
    macs = MacsProfiler(space, torch.zeros(1, 1, 8, 8))
    options = {"penalty": ExpectationProfilerPenalty(macs, baseline=1.0), "arch_lr": 0.2} if name == "darts" else {}
    strategy = nas_core.create("strategy", name, epochs=3, **options)
    seen = []
    strategy.on_epoch = lambda epoch, total, info: seen.append(epoch)  # a caller's hook still runs
    Experiment(space, ZeroLossTrainer(n=16, batch_size=8), strategy, profilers={"flops": macs}, workdir=tmp_path,
               progress=False).run()
    store = TrialStore(tmp_path)
    epochs = store.get_meta("oneshot_epochs")
    candidates = store.get_meta("oneshot_candidates")
    assert seen == [1, 2, 3] and [e["epoch"] for e in epochs] == [1, 2, 3]
    assert candidates["op1"] == ["conv3x3", "convk", "conv1x1", "blur"] and candidates["skip"] == ["[0]", "[1]"]
    assert candidates["width"] == ["4", "8", "16"]
    for e in epochs:
        assert set(e["probabilities"]) == set(candidates)
        for label, probs in e["probabilities"].items():
            assert len(probs) == len(candidates[label]) and sum(probs) == pytest.approx(1.0, abs=1e-3)
    if name == "darts":  # the MACs penalty moves the probabilities toward the cheapest width
        widths = [e["probabilities"]["width"][0] for e in epochs]
        assert widths == sorted(widths) and widths[-1] > widths[0] + 0.05
        assert epochs[-1]["probabilities"] == strategy.probabilities()
        assert epochs[0]["expected_cost"] > epochs[-1]["expected_cost"]
    else:
        assert epochs[-1]["probabilities"] == dict(zip(strategy.supernet.arch.labels,
                                                       strategy.controller.greedy_probabilities()))
    assert strategy.on_epoch is not None and store.get_meta("oneshot")["strategy"] == type(strategy).__name__

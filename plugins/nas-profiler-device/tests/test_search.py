"""The device profiler inside a search: a dead agent fails the trials instead of hanging the search."""
import json
import time

import pytest
import torch

from devprof_testkit import TOKEN, ChoiceSpace, running_agent
from nas_core.experiment import Experiment
from nas_core.interfaces import FAILED, SUCCEEDED
from nas_profiler_device import DeviceProfiler


class TinyTrainer:
    objective = "accuracy"

    def fit(self, model):
        with torch.no_grad():
            out = model(torch.ones(1, 3, 8, 8))
        return {"accuracy": float(torch.sigmoid(out.sum()))}


def search(profiler, workdir, trials=3):
    exp = Experiment(ChoiceSpace(), TinyTrainer(), "random", profilers={"latency": profiler}, max_trials=trials,
                     workdir=workdir, progress=False, keep_weights=False, seed=1)
    exp.run()
    return exp.store.trials(), json.loads((workdir / "summary.json").read_text())


def test_search_with_the_agent_and_after_it_died(tmp_path):
    with running_agent() as server:
        url = server.url
        lut = DeviceProfiler(ChoiceSpace(), (1, 3, 8, 8), url=url, token=TOKEN, cache_dir=tmp_path / "cache",
                             progress=False, repeats=3, warmup=1, calibration=2, on_unstable="ignore")
        assert lut.table.meta["device"] == server.info()["device"] and lut.profile(lut.space.default()) > 0
        live = DeviceProfiler(ChoiceSpace(), (1, 3, 8, 8), url=url, token=TOKEN, mode="measure", repeats=3,
                              warmup=1, timeout=20)
        trials, _ = search(live, tmp_path / "live")
        assert [t.status for t in trials] == [SUCCEEDED] * 3
        assert all(t.costs["latency"] > 0 for t in trials)
    # the agent is gone: every trial fails with the agent's URL in its error, and the search ends
    dead = DeviceProfiler(ChoiceSpace(), (1, 3, 8, 8), url=url, token=TOKEN, mode="measure", timeout=5)
    t0 = time.monotonic()
    trials, summary = search(dead, tmp_path / "dead")
    assert time.monotonic() - t0 < 30
    assert [t.status for t in trials] == [FAILED] * 3
    assert all("DeviceAgentError" in t.error and url in t.error for t in trials)
    assert summary["trials"][FAILED] == 3 and summary["best"] is None

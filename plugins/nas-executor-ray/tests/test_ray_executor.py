"""The Ray executor records the same trials as in-process for a seed (local Ray on loopback)."""
from __future__ import annotations

import os
import sys

import pytest

import nas_core
from nas_core.experiment import Experiment

KIT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "experiment")
sys.path.insert(0, os.path.abspath(KIT))
import nas_exp_testkit as kit  # noqa: E402
import sched_kit  # noqa: E402


def _records(tmp_path, executor):
    exp = Experiment(kit.toy_space, kit.CheapTrainer(), kit.HillClimb(),
                     profilers={"params": kit.ParamsCost(kit.toy_space())}, constraints={"params": {"max": 400}},
                     max_trials=8, schedule="sync", batch_size=2, seed=11, executor=executor, workdir=tmp_path, progress=False)
    exp.run()
    return [(t.id, t.batch, t.sample, t.status, t.metrics, t.costs) for t in exp.store.trials()], exp


def test_registered_as_ray():
    assert "ray" in nas_core.available("executor")


@pytest.mark.slow
def test_ray_with_two_workers_records_the_same_trials_as_in_process(tmp_path):
    from nas_executor_ray import RayExecutor

    local, _ = _records(tmp_path / "local", "in-process")
    ray_exec = RayExecutor(max_workers=2, num_cpus=2)
    try:
        assert ray_exec.max_workers == 2
        remote, exp = _records(tmp_path / "ray", ray_exec)
    finally:
        ray_exec.shutdown()
    assert remote == local
    assert all(t.worker.split(":")[1] != str(os.getpid()) for t in exp.store.trials() if t.status == "succeeded")


def test_bad_options():
    from nas_core.errors import ConfigError
    from nas_executor_ray import RayExecutor

    with pytest.raises(ConfigError, match="max_workers must be a positive integer"):
        RayExecutor(max_workers=0)


@pytest.mark.slow
def test_ray_async_stops_a_hanging_trial_and_gives_each_trial_its_gpu(tmp_path):
    from nas_executor_ray import RayExecutor

    # two logical GPUs (none is needed to check what a task sees): each task gets one of its own
    ray_exec = RayExecutor(max_workers=2, num_cpus=2, gpus_per_trial=1, init_kwargs={"num_gpus": 2})
    try:
        samples = [{"width": w, "act": "relu", "head": h} for w in (4, 8) for h in ("one", "two")]
        exp = Experiment(kit.toy_space, sched_kit.DeviceTrainer(), sched_kit.ListStrategy(samples), max_trials=4,
                         executor=ray_exec, workdir=tmp_path / "gpu", progress=False)
        exp.run()
        trials = exp.store.trials()
        assert [t.status for t in trials] == ["succeeded"] * 4
        assert {t.metrics["visible"] for t in trials} <= {0.0, 1.0}
        assert all(t.metrics["trial_device_cuda"] == 1.0 for t in trials)
        samples = [{"width": 16, "act": "relu", "head": "one"}, {"width": 4, "act": "relu", "head": "one"}]
        # the timeout leaves room for a fresh Ray worker importing torch on a loaded machine
        exp = Experiment(kit.toy_space, sched_kit.HangTrainer(), sched_kit.ListStrategy(samples), max_trials=2,
                         executor=ray_exec, workdir=tmp_path / "hang", progress=False, trial_timeout=30)
        exp.run()
        assert [t.status for t in exp.store.trials()] == ["timeout", "succeeded"]
    finally:
        ray_exec.shutdown()

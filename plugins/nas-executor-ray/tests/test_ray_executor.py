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


def _records(tmp_path, executor):
    exp = Experiment(kit.toy_space, kit.CheapTrainer(), kit.HillClimb(),
                     profilers={"params": kit.ParamsCost(kit.toy_space())}, constraints={"params": {"max": 400}},
                     max_trials=8, batch_size=2, seed=11, executor=executor, workdir=tmp_path, progress=False)
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

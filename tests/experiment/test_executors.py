"""Process pool: same records as in-process for a seed; a worker killed from outside is replaced."""
from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import Future

import pytest

import nas_core
from nas_core import create
from nas_core.errors import ConfigError
from nas_core.experiment import Experiment, ProcessPoolExecutor
from nas_core.experiment.process_pool import WorkerDied

import nas_exp_testkit as kit


def _records(tmp_path, executor, trainer=None, **kw):
    exp = Experiment(kit.toy_space, trainer or kit.CheapTrainer(), kit.HillClimb(),
                     profilers={"params": kit.ParamsCost(kit.toy_space())},
                     constraints={"params": {"max": 400}}, max_trials=8, schedule="sync", batch_size=2, seed=11,
                     executor=executor,
                     workdir=tmp_path, progress=False, **kw)
    exp.run()
    return exp, [(t.id, t.batch, t.sample, t.status, t.metrics, t.costs) for t in exp.store.trials()]


@pytest.mark.slow
def test_process_pool_records_the_same_trials_as_in_process(tmp_path):
    _, local = _records(tmp_path / "local", "in-process")
    exp, pooled = _records(tmp_path / "pool", ProcessPoolExecutor(2))
    assert pooled == local
    workers = {t.worker for t in exp.store.trials() if t.status == "succeeded"}
    assert len(workers) == 2 and all(w.split(":")[1] != str(os.getpid()) for w in workers)


def _kill_when_ready(pid_dir, stop):
    pid_file = pid_dir / "victim.pid"
    while not stop.is_set():
        if pid_file.exists() and pid_file.read_text():
            (pid_dir / "killed-once").write_text("x")
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
            return
        time.sleep(0.05)


@pytest.mark.slow
def test_worker_killed_from_outside_is_replaced(tmp_path, retries=1):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    stop = threading.Event()
    killer = threading.Thread(target=_kill_when_ready, args=(pid_dir, stop), daemon=True)
    killer.start()
    pool = ProcessPoolExecutor(2)
    exp = Experiment(kit.toy_space, kit.PidFileTrainer(str(pid_dir)), kit.ToyRandom(), max_trials=12, executor=pool,
                     workdir=tmp_path / "run", progress=False, retries=retries, seed=0)
    try:
        exp.run()
    finally:
        stop.set()
        pool.shutdown()
    trials = exp.store.trials()
    assert len(trials) == 12  # the search went on over the whole space
    victim = next(t for t in trials if t.sample == {"width": 16, "act": t.sample["act"], "head": "two"}
                  and t.attempts > 1 or (t.status == "failed" and "worker died" in (t.error or "")))
    assert pool.deaths >= 1  # a fresh worker replaced the killed one
    assert victim.status == "succeeded" and victim.attempts == 2  # retried on a fresh worker
    assert all(t.status == "succeeded" for t in trials)


def test_process_pool_options_are_checked():
    with pytest.raises(ConfigError, match="max_workers must be a positive integer"):
        create("executor", "process-pool", max_workers=0)
    with pytest.raises(ConfigError, match="'fork' can deadlock"):
        create("executor", "process-pool", max_workers=1, context="fork")


def test_unpicklable_trainer_is_a_clear_error(tmp_path):
    class Local(kit.CheapTrainer):  # holds a lock: cannot be sent to a worker
        def __init__(self):
            super().__init__()
            self.lock = threading.Lock()

    pool = ProcessPoolExecutor(1)
    try:
        with pytest.raises(ConfigError, match="must be picklable"):
            Experiment(kit.toy_space, Local(), kit.ToyRandom(), max_trials=1, executor=pool,
                       workdir=tmp_path, progress=False).run()
    finally:
        pool.shutdown()


def test_space_instance_with_a_process_pool_is_a_clear_error(tmp_path):
    pool = ProcessPoolExecutor(1)
    try:
        with pytest.raises(ConfigError, match="give the space as a factory"):
            Experiment(kit.toy_space(), kit.CheapTrainer(), kit.ToyRandom(), max_trials=1, executor=pool,
                       workdir=tmp_path, progress=False).run()
    finally:
        pool.shutdown()


class DyingWorkers(nas_core.Executor):
    """Runs trials in process, except that workers running width-16 samples 'die' the first ``deaths`` times."""

    def __init__(self, deaths):
        self.deaths = deaths
        self.max_workers = 1

    def submit(self, fn, *args):
        fut = Future()
        job = args[0]
        if job.sample["width"] == 16 and self.deaths > 0:
            self.deaths -= 1
            fut.set_exception(WorkerDied("worker process 123 died (exit code -9)"))
        else:
            fut.set_result(fn(*args))
        return fut


@pytest.mark.parametrize("retries", [0, 2])
def test_lost_workers_are_retried_then_recorded_failed(tmp_path, retries):
    exp = Experiment(kit.toy_space, kit.CheapTrainer(), kit.ToyRandom(), max_trials=12, workdir=tmp_path,
                     executor=DyingWorkers(deaths=100 if retries == 0 else 1), retries=retries, progress=False)
    exp.run()
    wide = [t for t in exp.store.trials() if t.sample["width"] == 16]
    narrow = [t for t in exp.store.trials() if t.sample["width"] != 16]
    assert len(wide) == 4 and all(t.status == "succeeded" for t in narrow)
    if retries == 0:
        assert all(t.status == "failed" and t.attempts == 1 for t in wide)
        assert wide[0].error.startswith("worker died while running this trial (WorkerDied")
    else:
        assert [t.attempts for t in wide].count(2) == 1 and all(t.status == "succeeded" for t in wide)

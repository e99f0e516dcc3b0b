"""Asynchronous and synchronous scheduling, time limits, and trials that fail in every way (process pool)."""
from __future__ import annotations

import os
import time

import pytest

from nas_core.errors import ConfigError
from nas_core.experiment import Experiment, ProcessPoolExecutor, TrialStore
from nas_core.interfaces import InProcessExecutor

import nas_exp_testkit as kit
import sched_kit

SAMPLES = [{"width": w, "act": a, "head": h} for w in (4, 8, 16) for a in ("relu", "tanh") for h in ("one", "two")]


def _exp(tmp_path, trainer, strategy, executor, **kw):
    kw.setdefault("progress", False)
    return Experiment(kit.toy_space, trainer, strategy, executor=executor, workdir=tmp_path / "run", **kw)


@pytest.fixture
def pool():
    pools = []

    def make(*args, **kw):
        pools.append(ProcessPoolExecutor(*args, **kw))
        return pools[-1]

    yield make
    for p in pools:
        p.shutdown()


def test_async_tells_a_finished_trial_at_once_and_starts_the_next(tmp_path, pool):
    # trial 1 is slow; trials 2.. are quick: asynchronously they all finish (and are told) before it
    samples = [dict(SAMPLES[8], width=16)] + SAMPLES[:4]
    strategy = sched_kit.ListStrategy(samples)
    exp = _exp(tmp_path, sched_kit.SleepTrainer({16: 2.0, 4: 0.05, 8: 0.05}), strategy, pool(2), max_trials=5)
    exp.run()
    trials = TrialStore(tmp_path / "run").trials()
    assert [t.status for t in trials] == ["succeeded"] * 5
    assert [t.told for t in trials] == [5, 1, 2, 3, 4]  # trial 1 told last; none waited for it
    assert strategy.told[-1] == (samples[0], "succeeded")
    assert {t.batch for t in trials} == {0}


def test_sync_batches_wait_for_their_slowest_trial_and_tell_in_trial_order(tmp_path, pool):
    samples = [dict(SAMPLES[8], width=16)] + SAMPLES[:3]
    exp = _exp(tmp_path, sched_kit.SleepTrainer({16: 0.6}), sched_kit.ListStrategy(samples), pool(2), max_trials=4,
               schedule="sync")
    exp.run()
    trials = TrialStore(tmp_path / "run").trials()
    assert [t.told for t in trials] == [1, 2, 3, 4] and [t.batch for t in trials] == [1, 1, 2, 2]
    # trial 3 (batch 2) started only after trial 1 (batch 1) finished
    assert trials[2].finished - trials[2].duration >= trials[0].finished - 0.05


def test_a_hanging_trial_is_stopped_at_trial_timeout_and_its_worker_replaced(tmp_path, pool):
    executor = pool(2)
    samples = [SAMPLES[0], SAMPLES[8], SAMPLES[1], SAMPLES[2], SAMPLES[3]]  # the second hangs (width 16)
    t0 = time.monotonic()
    exp = _exp(tmp_path, sched_kit.HangTrainer(), sched_kit.ListStrategy(samples), executor, max_trials=5,
               trial_timeout=1.5)
    exp.run()
    trials = TrialStore(tmp_path / "run").trials()
    assert [t.status for t in trials] == ["succeeded", "timeout", "succeeded", "succeeded", "succeeded"]
    assert "trial_timeout = 1.5 s" in trials[1].error and trials[1].duration == 1.5 and trials[1].score is None
    assert time.monotonic() - t0 < 30
    while executor.deaths < 1 and time.monotonic() - t0 < 30:  # the slot notices the kill in its own thread
        time.sleep(0.05)
    assert executor.deaths == 1 and len(executor.worker_pids()) == 2  # killed and replaced


def test_max_duration_stops_running_trials_and_a_rerun_with_more_time_runs_them_again(tmp_path, pool):
    samples = SAMPLES[:6]
    trainer = sched_kit.SleepTrainer({4: 0.2, 8: 5.0})  # the width-8 trials would outlast the budget
    executor = pool(2)
    executor.start()  # the budget is for trials here, not for starting the workers on a loaded machine
    exp = _exp(tmp_path, trainer, sched_kit.ListStrategy(samples), executor, max_duration=2.5)
    t0 = time.monotonic()
    exp.run()
    assert time.monotonic() - t0 < 2.5 + 4.0  # stopped at the deadline, not after the 5-s trials
    first = {t.id: t for t in TrialStore(tmp_path / "run").trials()}
    assert [first[i].status for i in (1, 2, 3, 4)] == ["succeeded"] * 4
    running = {i: t.sample for i, t in first.items() if t.status == "running"}
    assert running and all(s["width"] == 8 for s in running.values())
    trainer.seconds[8] = 0.1
    told_first = sorted((t for t in first.values() if t.told), key=lambda t: t.told)
    strategy = sched_kit.ListStrategy(samples)
    again = _exp(tmp_path, trainer, strategy, pool(2), max_duration=60)
    again.run()
    # on resume the strategy got its state, then every told trial in told order
    assert strategy.restored == [(t.sample, t.status) for t in told_first]
    after = {t.id: t for t in TrialStore(tmp_path / "run").trials()}
    assert [after[i].sample for i in sorted(after)] == samples  # none lost, none repeated, same ids
    assert all(t.status == "succeeded" for t in after.values())
    assert all(after[i].finished == first[i].finished for i in (1, 2, 3, 4))  # finished trials kept as they were


def test_a_worker_death_fails_only_its_own_trial(tmp_path, pool):
    executor = pool(2)
    exp = _exp(tmp_path, sched_kit.SuicideTrainer(), sched_kit.ListStrategy(SAMPLES), executor, max_trials=12,
               retries=1)
    exp.run()
    trials = TrialStore(tmp_path / "run").trials()
    killers = [t for t in trials if t.sample["width"] == 16 and t.sample["head"] == "two"]
    healthy = [t for t in trials if t not in killers]
    assert len(killers) == 2 and all(t.status == "failed" and t.attempts == 2 for t in killers)
    assert killers[0].error.startswith("worker died while running this trial (WorkerDied")
    assert len(healthy) == 10 and all(t.status == "succeeded" and t.attempts == 1 for t in healthy)
    assert executor.deaths == 4


@pytest.mark.parametrize("where", ["pool", "in-process"])
def test_system_exit_and_keyboard_interrupt_in_a_trainer_fail_that_trial_only(tmp_path, pool, where):
    executor = pool(2) if where == "pool" else InProcessExecutor()
    samples = [s for s in SAMPLES if where == "pool" or s["width"] != 8]  # in process, Ctrl-C stops the search
    exp = _exp(tmp_path, sched_kit.ExitTrainer(), sched_kit.ListStrategy(samples), executor, max_trials=12)
    exp.run()
    trials = TrialStore(tmp_path / "run").trials()
    assert len(trials) == len(samples)
    for t in trials:
        if t.sample["width"] == 4:
            assert t.status == "failed" and t.error.startswith("SystemExit: 5")
        elif t.sample["width"] == 8 and t.sample["act"] == "tanh":
            assert t.status == "failed" and t.error.startswith("KeyboardInterrupt")
        else:
            assert t.status == "succeeded"


def test_each_worker_sees_only_its_own_gpu(tmp_path, pool):
    executor = pool(devices=["cuda:0", "cuda:1"])
    assert executor.max_workers == 2
    exp = _exp(tmp_path, sched_kit.DeviceTrainer(), sched_kit.ListStrategy(SAMPLES), executor, max_trials=8)
    exp.run()
    seen: dict[float, set[float]] = {}
    for t in TrialStore(tmp_path / "run").trials():
        assert t.metrics["trial_device_cuda"] == 1.0
        seen.setdefault(t.metrics["pid"], set()).add(t.metrics["visible"])
    assert all(len(v) == 1 for v in seen.values())  # a worker keeps its GPU
    assert set().union(*seen.values()) == {0.0, 1.0}  # and the two workers have different ones


def test_gpu_settings_are_checked(monkeypatch):
    with pytest.raises(ConfigError, match="'gpu:1' is not a device; write 'cuda:N'"):
        ProcessPoolExecutor(devices=["gpu:1"])
    with pytest.raises(ConfigError, match="devices .* or gpus_per_trial, not both"):
        ProcessPoolExecutor(devices=["cuda:0"], gpus_per_trial=1)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    with pytest.raises(ConfigError, match="shows only 2 GPU"):
        ProcessPoolExecutor(devices=["cuda:2"])
    assert ProcessPoolExecutor(devices=["cuda:1", "cpu"]).envs == [
        {"CUDA_VISIBLE_DEVICES": "5", "NAS_TRIAL_DEVICE": "cuda:0"}, {"CUDA_VISIBLE_DEVICES": "", "NAS_TRIAL_DEVICE": "cpu"}]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(ConfigError, match="gpus_per_trial=1 but 0 GPU"):
        ProcessPoolExecutor(gpus_per_trial=1)


def test_schedule_and_time_limits_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="schedule must be 'async' .* or 'sync'"):
        _exp(tmp_path, kit.CheapTrainer(), kit.ToyRandom(), None, max_trials=2, schedule="batched")
    with pytest.raises(ConfigError, match="batch_size=3 sets the size of synchronous batches.*schedule='sync'"):
        _exp(tmp_path, kit.CheapTrainer(), kit.ToyRandom(), None, max_trials=2, batch_size=3)
    with pytest.raises(ConfigError, match="trial_timeout needs an executor that can stop"):
        _exp(tmp_path, kit.CheapTrainer(), kit.ToyRandom(), None, max_trials=2, trial_timeout=5)
    with pytest.raises(ConfigError, match="trial_timeout must be a number >= 0.001"):
        _exp(tmp_path, kit.CheapTrainer(), kit.ToyRandom(), None, max_trials=2, trial_timeout=-1)


def test_a_worker_survives_any_error_of_a_call(pool):
    from nas_core.experiment.worker import RemoteError

    executor = pool(1)
    first = executor.submit(sched_kit.pid).result(60)
    assert isinstance(executor.submit(sched_kit.exit_5).exception(60), SystemExit)
    err = executor.submit(sched_kit.a_lock).exception(60)
    assert isinstance(err, RemoteError) and "could not send back the ok value" in str(err)
    assert executor.submit(sched_kit.pid).result(60) == first and executor.deaths == 0  # the same worker
    assert first != os.getpid()


def test_a_worker_killed_while_idle_costs_no_trial_an_attempt(pool):
    import signal

    executor = pool(1)
    first = executor.submit(sched_kit.pid).result(60)
    os.kill(first, signal.SIGKILL)
    t0 = time.monotonic()
    while first in executor.worker_pids() and time.monotonic() - t0 < 10:  # until its death is seen
        time.sleep(0.05)
    second = executor.submit(sched_kit.pid).result(60)  # runs on a fresh worker, no WorkerDied
    assert second != first and executor.deaths == 1


def test_a_trainer_on_cpu_beside_gpu_workers_is_warned_about(caplog):
    from types import SimpleNamespace

    from nas_core.experiment.settings import warn_if_trainer_ignores_gpus

    gpus = ProcessPoolExecutor(devices=["cuda:0", "cuda:1"])
    assert warn_if_trainer_ignores_gpus(gpus, SimpleNamespace(device_name="cpu"))
    assert "set the trainer's device to 'auto'" in caplog.text
    assert not warn_if_trainer_ignores_gpus(gpus, SimpleNamespace(device_name="auto"))
    assert not warn_if_trainer_ignores_gpus(ProcessPoolExecutor(2), SimpleNamespace(device_name="cpu"))


def test_config_file_sets_schedule_timeout_and_devices(tmp_path):
    from nas_core.experiment import load_config

    from exp_configs import write_toy

    text = write_toy(tmp_path, executor="process-pool").read_text()
    text = text.replace('schedule = "sync"', 'schedule = "sync"\ntrial_timeout = "1m30s"')
    text += 'max_workers = 2\ndevices = ["cuda:0", "cpu"]\n'
    (tmp_path / "t.toml").write_text(text)
    exp = load_config(tmp_path / "t.toml").build(progress=False)
    try:
        assert (exp.schedule, exp.batch_size, exp.trial_timeout) == ("sync", 1, 90.0)
        assert [e["NAS_TRIAL_DEVICE"] for e in exp.executor.envs] == ["cuda:0", "cpu"]
    finally:
        exp.executor.shutdown()
    (tmp_path / "t.toml").write_text(text.replace('trial_timeout = "1m30s"', 'trial_timeout = "soon"'))
    with pytest.raises(ConfigError, match="experiment.trial_timeout: 'soon' is not a duration"):
        load_config(tmp_path / "t.toml")
